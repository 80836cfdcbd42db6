import type { Db } from "../../db/database.js";
import { invalidParameter, notFound } from "../errors.js";
import { newId } from "../ids.js";
import type { PortfoliosRepository } from "../portfolios/portfolios.repository.js";
import type { AccountsRepository } from "./accounts.repository.js";

export interface Account {
  id: string;
  name: string;
  defaultPortfolioId: string | null;
  createdAt: Date;
}

export function createAccountsService(deps: {
  accounts: AccountsRepository;
  portfolios: Pick<PortfoliosRepository, "findById">;
}) {
  const { accounts, portfolios } = deps;
  return {
    async create(input: { name: string; defaultPortfolioId?: string | null }, tx?: Db): Promise<Account> {
      const name = input.name.trim();
      if (!name) throw invalidParameter("name", "must not be empty");
      if (input.defaultPortfolioId != null && !(await portfolios.findById(input.defaultPortfolioId, tx))) {
        throw invalidParameter("defaultPortfolioId", `portfolio '${input.defaultPortfolioId}' does not exist`);
      }
      return accounts.create({ id: newId.account(), name, defaultPortfolioId: input.defaultPortfolioId ?? null }, tx);
    },
    async get(id: string): Promise<Account> {
      const account = await accounts.findById(id);
      if (!account) throw notFound("account", id);
      return account;
    },
    list: (): Promise<Account[]> => accounts.list(),
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
