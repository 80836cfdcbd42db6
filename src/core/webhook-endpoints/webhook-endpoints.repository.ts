import type { Db } from "../../db/database.js";

export const ENDPOINT_STATUSES = ["enabled", "disabled"] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

/** Subscribes an endpoint to every event type. */
export const ALL_EVENTS = "*";

/** A registered receiver, as stored (with its secret: only the service decides who sees it). */
export interface WebhookEndpointRecord {
  id: string;
  accountId: string;
  api: string;
  url: string;
  enabledEvents: string[];
  status: EndpointStatus;
  description: string | null;
  secret: string;
  createdAt: Date;
}

export type EndpointChanges = Partial<Pick<WebhookEndpointRecord, "url" | "enabledEvents" | "status" | "description">>;

/** An endpoint an event goes to: where, and the secret its delivery is signed with. */
export interface EndpointTarget {
  id: string;
  url: string;
}

const select = {
  id: true,
  accountId: true,
  api: true,
  url: true,
  enabledEvents: true,
  status: true,
  description: true,
  secret: true,
  createdAt: true,
} as const;

const asRecord = (row: Omit<WebhookEndpointRecord, "status"> & { status: string }): WebhookEndpointRecord => ({
  ...row,
  status: row.status as EndpointStatus,
});

/** The endpoints of one account registered through one API. */
interface Owner {
  accountId: string;
  api: string;
}

export function createWebhookEndpointsRepository(db: Db) {
  return {
    async insert(endpoint: Omit<WebhookEndpointRecord, "createdAt"> & { createdAt: Date }, tx: Db = db) {
      return asRecord(await tx.webhookEndpoint.create({ data: endpoint, select }));
    },

    async find(owner: Owner, id: string, tx: Db = db): Promise<WebhookEndpointRecord | null> {
      const row = await tx.webhookEndpoint.findFirst({ where: { id, ...owner }, select });
      return row ? asRecord(row) : null;
    },

    async update(owner: Owner, id: string, changes: EndpointChanges, tx: Db = db) {
      const { count } = await tx.webhookEndpoint.updateMany({ where: { id, ...owner }, data: changes });
      return count ? this.find(owner, id, tx) : null;
    },

    /**
     * One page of the owner's endpoints, newest first (ties by id), after or before a cursor
     * endpoint; null when the cursor is not one of the owner's endpoints.
     */
    async page(owner: Owner, page: { limit: number; startingAfter?: string | null; endingBefore?: string | null }) {
      const cursorId = page.startingAfter ?? page.endingBefore ?? null;
      const cursor = cursorId
        ? await db.webhookEndpoint.findFirst({
            where: { id: cursorId, ...owner },
            select: { id: true, createdAt: true },
          })
        : null;
      if (cursorId && !cursor) return null;
      const before = page.endingBefore != null;
      const beyond = before ? "gt" : "lt";
      const rows = await db.webhookEndpoint.findMany({
        where: {
          ...owner,
          ...(cursor
            ? {
                OR: [
                  { createdAt: { [beyond]: cursor.createdAt } },
                  { createdAt: cursor.createdAt, id: { [beyond]: cursor.id } },
                ],
              }
            : {}),
        },
        orderBy: before ? [{ createdAt: "asc" }, { id: "asc" }] : [{ createdAt: "desc" }, { id: "desc" }],
        take: page.limit + 1,
        select,
      });
      const endpoints = rows.slice(0, page.limit).map(asRecord);
      return { endpoints: before ? endpoints.reverse() : endpoints, hasMore: rows.length > page.limit };
    },

    /** The owner's enabled endpoints subscribed to `type` (or to every type), oldest first. */
    subscribedTo(owner: Owner, type: string, tx: Db = db): Promise<EndpointTarget[]> {
      return tx.webhookEndpoint.findMany({
        where: { ...owner, status: "enabled", enabledEvents: { hasSome: [type, ALL_EVENTS] } },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        select: { id: true, url: true },
      });
    },

    /** The signing secrets of these endpoints, by endpoint id. */
    async secretsOf(ids: readonly string[], tx: Db = db): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const rows = await tx.webhookEndpoint.findMany({
        where: { id: { in: [...ids] } },
        select: { id: true, secret: true },
      });
      return new Map(rows.map((r) => [r.id, r.secret]));
    },
  };
}

export type WebhookEndpointsRepository = ReturnType<typeof createWebhookEndpointsRepository>;
