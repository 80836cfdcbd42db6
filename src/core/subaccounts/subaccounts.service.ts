import type { Transactor } from "../../db/database.js";
import { type WithinWrite, type Written, writeInTransaction } from "../idempotency/idempotency.types.js";
import { conflict, invalidParameter, invalidSubaccount, notFound } from "../errors.js";
import { newId } from "../ids.js";
import type { PortfoliosRepository } from "../portfolios/portfolios.repository.js";
import type { Scope } from "../scope.js";
import type { Clock } from "../time.js";
import { type LogoFetcher, LogoDownloadError } from "./logo-fetcher.js";
import { LOGO_TYPES, type LogoContentType, logoProblem, mediaTypeOf } from "./logos.js";
import type {
  LogoChoice,
  LogoFile,
  Subaccount,
  SubaccountFields,
  SubaccountsRepository,
} from "./subaccounts.repository.js";

/** A new subaccount: its fields and, optionally, the URL of a logo to download. */
export type NewSubaccount = SubaccountFields & { logoUrl?: string | null };

/** What the service needs to take in logos: a downloader and the size limit. */
export interface LogoIntake {
  fetch: LogoFetcher;
  maxBytes: number;
}

const newLogoId = (contentType: LogoContentType) => `${newId.logo()}.${LOGO_TYPES[contentType]}`;

export function createSubaccountsService(deps: {
  subaccounts: SubaccountsRepository;
  portfolios: Pick<PortfoliosRepository, "findById">;
  transaction: Transactor;
  clock: Clock;
  /** Told after each committed change (the default portfolio a purchase in scope is priced from may change). */
  catalogChanged?: () => void;
  logos: LogoIntake;
}) {
  const { subaccounts, portfolios, transaction, clock, logos } = deps;

  /** The logo for `bytes` sent as `contentType`, or the field's invalid-parameters error. */
  function logoFrom(field: string, bytes: Uint8Array, contentType: string | undefined, what = ""): LogoFile {
    const problem = logoProblem(bytes, contentType, logos.maxBytes);
    if (problem) throw invalidParameter(field, what + problem);
    const type = mediaTypeOf(contentType) as LogoContentType;
    return { id: newLogoId(type), contentType: type, content: bytes };
  }

  /** Downloads the logo at `url` (field `logoUrl`): a refusal or a failure is invalid-parameters. */
  async function download(url: string): Promise<LogoFile> {
    try {
      const { bytes, contentType } = await logos.fetch(url);
      return logoFrom("logoUrl", bytes, contentType, "gave no logo: what it serves ");
    } catch (error) {
      if (error instanceof LogoDownloadError)
        throw invalidParameter("logoUrl", `could not be downloaded: ${error.message}`);
      throw error;
    }
  }

  /** Shows `logo` (null: none) on the subaccount, in one transaction; the logo it replaces is removed. */
  async function setLogo(accountId: string, id: string, logo: LogoFile | null, sourceUrl: string | null) {
    const updated = await transaction(async (tx) => {
      const current = await subaccounts.lock(accountId, id, tx);
      if (!current) throw notFound("subaccount", id);
      if (logo) await subaccounts.insertLogo(logo, tx);
      const choice: LogoChoice = { logoId: logo?.id ?? null, logoSourceUrl: logo ? sourceUrl : null };
      const row = await subaccounts.update(accountId, id, choice, tx);
      if (current.logoId && current.logoId !== logo?.id) await subaccounts.deleteLogoIfUnused(current.logoId, tx);
      return row!;
    });
    return updated;
  }

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
      { logoUrl, ...fields }: NewSubaccount,
      within?: WithinWrite<Subaccount>,
    ): Promise<Written<Subaccount>> {
      await checkPortfolio(fields);
      // Downloaded before the transaction: no row stays locked while another server answers.
      const logo = logoUrl ? await download(logoUrl) : null;
      const created = await writeInTransaction(transaction, async (tx) => {
        if (logo) await subaccounts.insertLogo(logo, tx);
        const row = await subaccounts.create(
          {
            id: newId.subaccount(),
            accountId,
            ...fields,
            logoId: logo?.id ?? null,
            logoSourceUrl: logo ? logoUrl! : null,
          },
          tx,
        );
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
      { name, email, defaultPortfolioId }: SubaccountFields,
      within?: WithinWrite<Subaccount>,
    ): Promise<Written<Subaccount>> {
      // Exactly these: the logo is not the update's to change, whatever else the caller's object holds.
      const fields = { name, email, defaultPortfolioId };
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

    /**
     * Deletes a subaccount that has no orders; one with orders is a conflict. The row is locked
     * while its orders are counted, so the check and the deletion see the same subaccount.
     */
    async remove(accountId: string, id: string): Promise<void> {
      await transaction(async (tx) => {
        if (!(await subaccounts.lock(accountId, id, tx))) throw notFound("subaccount", id);
        if (await subaccounts.hasOrders(id, tx)) {
          throw conflict(`Subaccount '${id}' has orders and cannot be deleted`);
        }
        await subaccounts.softDelete(accountId, id, clock(), tx);
      });
      deps.catalogChanged?.();
    },

    /** Downloads the logo at `url` and shows it (a 404 for an unknown id comes before any download). */
    async setLogoFromUrl(accountId: string, id: string, url: string): Promise<Subaccount> {
      if (!(await subaccounts.find(accountId, id))) throw notFound("subaccount", id);
      return setLogo(accountId, id, await download(url), url);
    },

    /** Shows the uploaded `bytes`, sent as `contentType`, as the logo (field `logo` when refused). */
    async uploadLogo(accountId: string, id: string, bytes: Uint8Array, contentType: string | undefined) {
      if (!(await subaccounts.find(accountId, id))) throw notFound("subaccount", id);
      return setLogo(accountId, id, logoFrom("logo", bytes, contentType), null);
    },

    removeLogo: (accountId: string, id: string) => setLogo(accountId, id, null, null),

    /** The most bytes a logo may have. */
    maxLogoBytes: logos.maxBytes,

    /** A re-hosted logo by its file name, for anyone (its URL is public). */
    logoFile: (logoId: string) => subaccounts.findLogo(logoId),
  };
}

export type SubaccountsService = ReturnType<typeof createSubaccountsService>;
