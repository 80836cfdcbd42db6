/**
 * The Opencharge adapter's own tables (migration 20261130300000_opencharge): participants, nonces,
 * orders turned into sessions, and the transfer proofs Kassa signed. Every statement on them is here.
 */
import { type Db, Prisma, type Sql } from "../../db/database.js";

export const PARTICIPANT_ROLES = ["merchant", "merchant-gateway"] as const;
export type ParticipantRole = (typeof PARTICIPANT_ROLES)[number];

export interface Participant {
  ocid: string;
  name: string;
  /** 128 hex. */
  publicKey: string;
  endpoint: string;
  role: ParticipantRole;
  subaccountId: string;
  createdAt: Date;
}

export interface StoredProof {
  txid: string;
  sessionId: string;
  deliveryId: string | null;
  proof: Record<string, unknown>;
  signature: string;
  createdAt: Date;
}

export interface ProofWithDelivery extends StoredProof {
  delivery: {
    status: string;
    attemptCount: number;
    lastResponseStatus: number | null;
    lastError: string | null;
    nextAttemptAt: Date | null;
    completedAt: Date | null;
  } | null;
}

const asParticipant = (row: {
  ocid: string;
  name: string;
  publicKey: string;
  endpoint: string;
  role: string;
  subaccountId: string;
  createdAt: Date;
}): Participant => ({ ...row, role: row.role as ParticipantRole });

interface ParticipantRow {
  ocid: string;
  name: string;
  public_key: string;
  endpoint: string;
  role: string;
  subaccount_id: string;
  created_at: Date;
}

/**
 * `sql` (the driver, prepared statements) serves the two statements every signed request makes
 * (its caller, its nonce) outside transactions, as the other hot paths do; Prisma the rest.
 */
export function createOpenchargeRepository(db: Db, sql?: Sql) {
  return {
    async findParticipant(ocid: string, tx?: Db): Promise<Participant | null> {
      if (!tx && sql) {
        const [row] = await sql.query<ParticipantRow>({
          text: `SELECT ocid, name, public_key, endpoint, role, subaccount_id, created_at
            FROM opencharge_participants WHERE ocid = $1`,
          values: [ocid],
        });
        return row
          ? asParticipant({
              ocid: row.ocid,
              name: row.name,
              publicKey: row.public_key,
              endpoint: row.endpoint,
              role: row.role,
              subaccountId: row.subaccount_id,
              createdAt: new Date(row.created_at),
            })
          : null;
      }
      const row = await (tx ?? db).openchargeParticipant.findUnique({ where: { ocid } });
      return row ? asParticipant(row) : null;
    },
    /** Both participants of a create in one query (the caller and the merchant, often one row twice). */
    async findParticipants(ocids: readonly string[], tx: Db = db): Promise<Map<string, Participant>> {
      const rows = await tx.openchargeParticipant.findMany({ where: { ocid: { in: [...new Set(ocids)] } } });
      return new Map(rows.map((r) => [r.ocid, asParticipant(r)]));
    },
    async listParticipants(tx: Db = db): Promise<Participant[]> {
      const rows = await tx.openchargeParticipant.findMany({ orderBy: { createdAt: "asc" } });
      return rows.map(asParticipant);
    },
    /** Inserts, or null when the OCID is registered already. */
    async insertParticipant(participant: Participant, tx: Db = db): Promise<Participant | null> {
      const rows = await tx.$queryRaw<{ ocid: string }[]>`
        INSERT INTO opencharge_participants (ocid, name, public_key, endpoint, role, subaccount_id, created_at)
        VALUES (${participant.ocid}, ${participant.name}, ${participant.publicKey}, ${participant.endpoint},
                ${participant.role}, ${participant.subaccountId}, ${participant.createdAt})
        ON CONFLICT (ocid) DO NOTHING RETURNING ocid`;
      return rows.length ? participant : null;
    },
    async updateParticipant(
      ocid: string,
      fields: Pick<Participant, "name" | "publicKey" | "endpoint" | "role">,
      tx: Db = db,
    ): Promise<Participant> {
      return asParticipant(await tx.openchargeParticipant.update({ where: { ocid }, data: fields }));
    },
    async deleteParticipant(ocid: string, tx: Db = db): Promise<Participant | null> {
      const rows = await tx.openchargeParticipant.findMany({ where: { ocid } });
      if (!rows[0]) return null;
      await tx.openchargeParticipant.delete({ where: { ocid } });
      return asParticipant(rows[0]);
    },

    /**
     * Records a nonce until `expiresAt`; false when it was seen already (a replay). One insert whose
     * primary key decides, so two instances receiving the same request cannot both accept it. A
     * row past its expiry (not yet pruned) is taken over: its nonce is free again.
     */
    async claimNonce(ocid: string, nonce: string, expiresAt: Date, now: Date, tx?: Db): Promise<boolean> {
      const statement = Prisma.sql`
        INSERT INTO opencharge_nonces (ocid, nonce, expires_at) VALUES (${ocid}, ${nonce}, ${expiresAt})
        ON CONFLICT (ocid, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at
          WHERE opencharge_nonces.expires_at <= ${now}
        RETURNING ocid`;
      const rows =
        !tx && sql
          ? await sql.query<{ ocid: string }>(statement)
          : await (tx ?? db).$queryRaw<{ ocid: string }[]>(statement);
      return rows.length === 1;
    },
    /** Forgets nonces past their window; returns how many. */
    async pruneNonces(now: Date, tx: Db = db): Promise<number> {
      return tx.$executeRaw`DELETE FROM opencharge_nonces WHERE expires_at <= ${now}`;
    },

    /**
     * SQL for the session's own statement (a CTE run before the session's insert): records the
     * order as this session's, returning a row only when the (merchant, order id) pair was free.
     * The primary key orders concurrent creates of one order: the second waits for the first and
     * inserts nothing, so no second session is made.
     */
    claimOrderSql(order: { merchantOcid: string; orderId: string; gatewayOcid: string; sessionId: string; at: Date }) {
      return Prisma.sql`INSERT INTO opencharge_orders (merchant_ocid, order_id, session_id, merchant_gateway_ocid, created_at)
        VALUES (${order.merchantOcid}, ${order.orderId}, ${order.sessionId}, ${order.gatewayOcid}, ${order.at})
        ON CONFLICT (merchant_ocid, order_id) DO NOTHING RETURNING session_id`;
    },
    async sessionOfOrder(merchantOcid: string, orderId: string, tx: Db = db): Promise<string | null> {
      const row = await tx.openchargeOrder.findUnique({
        where: { merchantOcid_orderId: { merchantOcid, orderId } },
        select: { sessionId: true },
      });
      return row?.sessionId ?? null;
    },

    async insertProof(proof: Omit<StoredProof, "createdAt"> & { createdAt: Date }, tx: Db = db): Promise<void> {
      await tx.openchargeProof.create({
        data: { ...proof, proof: proof.proof as Prisma.InputJsonValue },
      });
    },
    async proofOfSession(sessionId: string, tx: Db = db): Promise<StoredProof | null> {
      const row = await tx.openchargeProof.findUnique({ where: { sessionId } });
      return row ? { ...row, proof: row.proof as Record<string, unknown> } : null;
    },
    /** Proofs newest first, each with its delivery's state and its last attempt's answer. */
    async listProofs(limit: number, tx: Db = db): Promise<ProofWithDelivery[]> {
      const rows = await tx.openchargeProof.findMany({
        orderBy: [{ createdAt: "desc" }, { txid: "desc" }],
        take: limit,
      });
      const ids = rows.map((r) => r.deliveryId).filter((id): id is string => id !== null);
      const deliveries = await tx.webhookDelivery.findMany({
        where: { id: { in: ids } },
        include: { attempts: { orderBy: { attempt: "desc" }, take: 1 } },
      });
      const byId = new Map(deliveries.map((d) => [d.id, d]));
      return rows.map((r) => {
        const d = r.deliveryId ? byId.get(r.deliveryId) : undefined;
        const last = d?.attempts[0];
        return {
          ...r,
          proof: r.proof as Record<string, unknown>,
          delivery: d
            ? {
                status: d.status,
                attemptCount: d.attemptCount,
                lastResponseStatus: last?.responseStatus ?? null,
                lastError: last?.error ?? null,
                nextAttemptAt: d.status === "pending" ? d.nextAttemptAt : null,
                completedAt: d.completedAt,
              }
            : null,
        };
      });
    },
  };
}

export type OpenchargeRepository = ReturnType<typeof createOpenchargeRepository>;
