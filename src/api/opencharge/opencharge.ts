/**
 * The Opencharge adapter's runtime: its configuration, Kassa's identity (OCID, secp256k1 key, the
 * account its sessions belong to) and its repository. Built once per store by the composition
 * root (src/composition.ts) and reached by the surface, the lifecycle, the outbox signer and the
 * operator commands through `services.opencharge`.
 *
 * Which account owns Opencharge sessions: one installation account, OPENCHARGE_ACCOUNT, or when
 * unset an account named "Opencharge" created on first start (its id kept in the store, like the
 * generated key). Participants are not Kassa tenants: a merchant is a subaccount of that account,
 * named as the participant (what the hosted page shows), created when it is registered.
 */
import type { Config } from "../../config.js";
import { createAccountsRepository } from "../../core/accounts/accounts.repository.js";
import { createSettingsRepository } from "../../core/settings/settings.repository.js";
import { type Database, transactorFor } from "../../db/database.js";
import { newId } from "../../core/ids.js";
import { generatePrivateKey, type PrivateKey, parsePrivateKey } from "./keys.js";
import { createOpenchargeRepository, type OpenchargeRepository } from "./opencharge.repository.js";

/** The name sessions record as their `api`; also the outbox rows' signature scheme. */
export const OPENCHARGE_API = "opencharge";

export type OpenchargeConfig = Config["opencharge"];

/** Where Kassa keeps what it generates for itself (src/core/settings). */
export const OPENCHARGE_SETTINGS = {
  privateKey: "opencharge.private_key",
  accountId: "opencharge.account_id",
} as const;

export interface OpenchargeIdentity {
  ocid: string;
  key: PrivateKey;
  /** 128 hex: what metadata.json publishes. */
  publicKey: string;
  /** The account that owns Opencharge sessions. */
  accountId: string;
}

export class OpenchargeOffError extends Error {
  override name = "OpenchargeOffError";
  constructor() {
    super("Opencharge is off: set OPENCHARGE_OCID to Kassa's OCID");
  }
}

export interface OpenchargeRuntime {
  config: OpenchargeConfig;
  /** On while an OCID is configured. */
  enabled: boolean;
  repository: OpenchargeRepository;
  /** Loaded once (the key and account created on first need); a failure is retried by the next caller. */
  identity(): Promise<OpenchargeIdentity>;
}

async function loadIdentity(db: Database, config: OpenchargeConfig): Promise<OpenchargeIdentity> {
  if (!config.ocid) throw new OpenchargeOffError();
  const settings = createSettingsRepository(db.prisma);
  const accounts = createAccountsRepository(db.prisma);
  const key = parsePrivateKey(
    config.privateKey ?? (await settings.getOrCreate(OPENCHARGE_SETTINGS.privateKey, generatePrivateKey().toHex())),
  );
  let accountId = config.accountId;
  if (accountId) {
    if (!(await accounts.findById(accountId))) throw new Error(`OPENCHARGE_ACCOUNT: no account '${accountId}'`);
  } else {
    // The setting's insert holds its row until the account exists: another instance reads the id only then.
    const candidate = newId.account();
    accountId = await transactorFor(db.prisma)(async (tx) => {
      const id = await settings.getOrCreate(OPENCHARGE_SETTINGS.accountId, candidate, tx);
      if (id === candidate) await accounts.create({ id, name: "Opencharge" }, tx);
      return id;
    });
  }
  return { ocid: config.ocid, key, publicKey: key.publicKey.hex, accountId };
}

export function createOpencharge(db: Database, config: OpenchargeConfig): OpenchargeRuntime {
  let pending: Promise<OpenchargeIdentity> | null = null;
  return {
    config,
    enabled: config.ocid !== null,
    repository: createOpenchargeRepository(db.prisma, db.sql),
    identity: () =>
      (pending ??= loadIdentity(db, config).catch((error) => {
        pending = null;
        throw error;
      })),
  };
}
