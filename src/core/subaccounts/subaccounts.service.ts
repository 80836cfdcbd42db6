import type { Transactor } from "../../db/database.js";
import { type WithinWrite, type Written, writeInTransaction } from "../idempotency/idempotency.types.js";
import { invalidParameter, invalidSubaccount, notFound } from "../errors.js";
import { newId } from "../ids.js";
import type { PortfoliosRepository } from "../portfolios/portfolios.repository.js";
import type { Scope } from "../scope.js";
import type { Clock } from "../time.js";
import type { Subaccount, SubaccountFields, SubaccountsRepository } from "./subaccounts.repository.js";

export function createSubaccountsService(deps: {
  subaccounts: SubaccountsRepository;
  portfolios: Pick<PortfoliosRepository, "findById">;
  transaction: Transactor;
  clock: Clock;
  /** Told after each committed change (the default portfolio a purchase in scope is priced from may change). */
  catalogChanged?: () => void;
}) {
  const { subaccounts, portfolios, transaction, clock } = deps;

  async function checkPortfolio(fields: SubaccountFields) {
    // Every id given is checked, "" too: only null means "no default" (the foreign key would refuse the rest).
    if (fields.defaultPortfolioId !== null && !(await portfolios.findById(fields.defaultPortfolioId))) {
      throw invalidParameter("defaultPortfolioId", `Portfolio '${fields.defaultPortfolioId}' does not exist`);
    }
  }

  return {
    /**
     * The scope a request acts in. A subaccount id that is unknown, deleted or another
     * account's is rejected as invalid-subaccount (not 404: the header, not the resource, is wrong).
     */
    async scopeFor(accountId: string, subaccountId: string | undefined): Promise<Scope> {
      if (subaccountId === undefined) return { accountId, subaccountId: null };
      const subaccount = await subaccounts.find(accountId, subaccountId);
      if (!subaccount) throw invalidSubaccount(subaccountId);
      return { accountId, subaccountId: subaccount.id };
    },

    /** `within` runs in the creating transaction (an adapter storing its idempotent response). */
    async create(
      accountId: string,
      fields: SubaccountFields,
      within?: WithinWrite<Subaccount>,
    ): Promise<Written<Subaccount>> {
      await checkPortfolio(fields);
      const created = await writeInTransaction(transaction, async (tx) => {
        const row = await subaccounts.create({ id: newId.subaccount(), accountId, ...fields }, tx);
        await within?.inTransaction(tx, row);
        return row;
      });
      deps.catalogChanged?.();
      return created;
    },

    async get(accountId: string, id: string): Promise<Subaccount> {
      const subaccount = await subaccounts.find(accountId, id);
      if (!subaccount) throw notFound("subaccount", id);
      return subaccount;
    },

    list: (accountId: string) => subaccounts.list(accountId),

    async update(
      accountId: string,
      id: string,
      fields: SubaccountFields,
      within?: WithinWrite<Subaccount>,
    ): Promise<Written<Subaccount>> {
      await checkPortfolio(fields);
      const updated = await writeInTransaction(transaction, async (tx) => {
        const row = await subaccounts.update(accountId, id, fields, tx);
        if (!row) throw notFound("subaccount", id);
        await within?.inTransaction(tx, row);
        return row;
      });
      deps.catalogChanged?.();
      return updated;
    },

    async remove(accountId: string, id: string): Promise<void> {
      if (!(await subaccounts.softDelete(accountId, id, clock()))) throw notFound("subaccount", id);
      deps.catalogChanged?.();
    },
  };
}

export type SubaccountsService = ReturnType<typeof createSubaccountsService>;
