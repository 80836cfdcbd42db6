import type { ChangeFeed, Db } from "../../db/database.js";
import { invalidParameter, notFound } from "../errors.js";
import { newId } from "../ids.js";
import { createNotifiedCache } from "../notified-cache.js";
import type { PortfoliosRepository } from "../portfolios/portfolios.repository.js";
import { CATALOG_CHANGES_CHANNEL } from "../portfolios/portfolios.service.js";
import type { AccountsRepository } from "./accounts.repository.js";

export interface Account {
  id: string;
  name: string;
  defaultPortfolioId: string | null;
  createdAt: Date;
}

/** The versions an API knows, oldest first; an account's default must be one of them. */
export type KnownApiVersions = Readonly<Record<string, readonly string[]>>;

export function createAccountsService(deps: {
  accounts: AccountsRepository;
  portfolios: Pick<PortfoliosRepository, "findById">;
  /** Changes made by any instance (accounts NOTIFY on every change), so defaults can be remembered. */
  changes?: ChangeFeed;
  now?: () => number;
}) {
  const { accounts, portfolios } = deps;
  /** Each account's API version defaults, forgotten on any change to accounts (a trigger NOTIFYs). */
  const apiVersions = createNotifiedCache<Record<string, string>>({
    changes: deps.changes,
    channel: CATALOG_CHANGES_CHANNEL,
    now: deps.now ?? Date.now,
    ttlMs: 60_000,
    maxEntries: 10_000,
    forgetAllOnChange: true,
  });
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

    /** The account's default version of `api`, or null (the installation's default applies). */
    async defaultApiVersion(accountId: string, api: string): Promise<string | null> {
      const versions = await apiVersions.remember(accountId, () => accounts.findApiVersions(accountId));
      return versions?.[api] ?? null;
    },

    /**
     * Sets (or, with null, clears) the account's default version of `api`, which must be one of
     * `known[api]`. Returns the account's defaults after the change.
     */
    async setDefaultApiVersion(
      accountId: string,
      api: string,
      version: string | null,
      known: KnownApiVersions,
    ): Promise<Record<string, string>> {
      const versions = known[api];
      if (!versions) {
        throw invalidParameter("api", `must be one of the versioned APIs: ${Object.keys(known).join(", ")}`);
      }
      if (version !== null && !versions.includes(version)) {
        throw invalidParameter("version", `'${version}' is not a version of ${api} (known: ${versions.join(", ")})`);
      }
      const updated = await accounts.setApiVersion(accountId, api, version);
      apiVersions.forget(accountId);
      if (!updated) throw notFound("account", accountId);
      return updated;
    },
  };
}

export type AccountsService = ReturnType<typeof createAccountsService>;
