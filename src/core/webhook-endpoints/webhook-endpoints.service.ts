import type { Db, Transactor } from "../../db/database.js";
import { type FieldErrors, invalidPagination, invalidParameters, notFound } from "../errors.js";
import { type WithinWrite, type Written, writeInTransaction } from "../idempotency/idempotency.types.js";
import { newId, newSecret } from "../ids.js";
import type { Clock } from "../time.js";
import { SECRET_PREFIX } from "../webhooks/signing.js";
import type { WebhooksRepository } from "../webhooks/webhooks.repository.js";
import {
  ENDPOINT_STATUSES,
  type EndpointChanges,
  type WebhookEndpointRecord,
  type WebhookEndpointsRepository,
} from "./webhook-endpoints.repository.js";

/** An endpoint as it is read back: its secret is never shown again, only its last characters. */
export type WebhookEndpoint = Omit<WebhookEndpointRecord, "secret"> & { secretLast4: string };

/** A new endpoint, with the secret the merchant verifies signatures with (shown this once). */
export type CreatedWebhookEndpoint = WebhookEndpoint & { secret: string };

export interface NewWebhookEndpoint {
  url: string;
  enabledEvents: string[];
  description?: string | null;
  /** The prefix of the new id (`we_`); none by default. */
  idPrefix?: string;
}

/** An event to send to every endpoint of its account and API that is enabled and subscribed to its type. */
export interface EventForEndpoints {
  accountId: string;
  api: string;
  eventId: string;
  type: string;
  subjectType: string;
  subjectId: string;
  /** The exact body every endpoint receives; rendered only when some endpoint is subscribed. */
  payload: string | (() => Promise<string>);
  /** The delivery's signature scheme (a signer the webhooks service was given). */
  signature: string;
}

export const DEFAULT_ENDPOINT_PAGE_LIMIT = 10;
export const MAX_ENDPOINT_PAGE_LIMIT = 100;

const view = ({ secret, ...endpoint }: WebhookEndpointRecord): WebhookEndpoint => ({
  ...endpoint,
  secretLast4: secret.slice(-4),
});

/**
 * Webhook endpoints merchants register through an API: each receives the events of its account
 * and API it is subscribed to, signed with its own secret. Field paths in errors are the core's
 * (url, enabledEvents, status); adapters word them.
 */
export function createWebhookEndpointsService(deps: {
  endpoints: WebhookEndpointsRepository;
  deliveries: Pick<WebhooksRepository, "enqueue">;
  /** Why a receiver URL is refused (not http(s); private unless WEBHOOK_ALLOW_PRIVATE_URLS), or null. */
  receiverUrlProblem: (url: string) => string | null;
  transaction: Transactor;
  clock: Clock;
}) {
  const { endpoints, deliveries, receiverUrlProblem, transaction, clock } = deps;

  function validate(changes: EndpointChanges) {
    const fields: FieldErrors = {};
    if (changes.url !== undefined) {
      const problem = receiverUrlProblem(changes.url);
      if (problem) fields.url = [problem];
    }
    if (changes.enabledEvents !== undefined) {
      if (changes.enabledEvents.length === 0) fields.enabledEvents = ["must have at least 1 event type"];
      else if (changes.enabledEvents.some((t) => t.trim() === "")) fields.enabledEvents = ["must not be empty"];
    }
    if (changes.status !== undefined && !ENDPOINT_STATUSES.includes(changes.status)) {
      fields.status = [`must be one of ${ENDPOINT_STATUSES.join(", ")}`];
    }
    if (Object.keys(fields).length) throw invalidParameters(fields);
  }

  /** Each type once, in the order given. */
  const distinct = (types: string[]) => [...new Set(types)];

  return {
    /** Registers an endpoint with a new secret; `within` stores the adapter's idempotent response with it. */
    async create(
      accountId: string,
      api: string,
      input: NewWebhookEndpoint,
      within?: WithinWrite<CreatedWebhookEndpoint>,
    ): Promise<Written<CreatedWebhookEndpoint>> {
      validate({ url: input.url, enabledEvents: input.enabledEvents });
      return writeInTransaction(transaction, async (tx) => {
        const record = await endpoints.insert(
          {
            id: `${input.idPrefix ?? ""}${newId.webhookEndpoint()}`,
            accountId,
            api,
            url: input.url,
            enabledEvents: distinct(input.enabledEvents),
            status: "enabled",
            description: input.description ?? null,
            secret: `${SECRET_PREFIX}${newSecret()}`,
            createdAt: clock(),
          },
          tx,
        );
        const created = { ...view(record), secret: record.secret };
        await within?.inTransaction(tx, created);
        return created;
      });
    },

    /** Another account's or another API's endpoint is not found. */
    async get(accountId: string, api: string, id: string): Promise<WebhookEndpoint> {
      const record = await endpoints.find({ accountId, api }, id);
      if (!record) throw notFound("webhook_endpoint", id);
      return view(record);
    },

    async update(
      accountId: string,
      api: string,
      id: string,
      changes: EndpointChanges,
      within?: WithinWrite<WebhookEndpoint>,
    ): Promise<Written<WebhookEndpoint>> {
      validate(changes);
      const normalized = changes.enabledEvents
        ? { ...changes, enabledEvents: distinct(changes.enabledEvents) }
        : changes;
      return writeInTransaction(transaction, async (tx) => {
        const record = await endpoints.update({ accountId, api }, id, normalized, tx);
        if (!record) throw notFound("webhook_endpoint", id);
        const updated = view(record);
        await within?.inTransaction(tx, updated);
        return updated;
      });
    },

    /** One page of the account's endpoints of `api`, newest first. */
    async list(
      accountId: string,
      api: string,
      query: { limit?: number | null; startingAfter?: string | null; endingBefore?: string | null } = {},
    ): Promise<{ endpoints: WebhookEndpoint[]; hasMore: boolean }> {
      const limit = query.limit ?? DEFAULT_ENDPOINT_PAGE_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ENDPOINT_PAGE_LIMIT) {
        throw invalidPagination(`'limit' must be an integer between 1 and ${MAX_ENDPOINT_PAGE_LIMIT}`);
      }
      if (query.startingAfter && query.endingBefore) {
        throw invalidPagination("Pass at most one of 'starting_after' and 'ending_before'");
      }
      const page = await endpoints.page({ accountId, api }, { ...query, limit });
      if (!page) {
        const cursor = query.startingAfter ? "starting_after" : "ending_before";
        throw invalidPagination(`'${cursor}' is not the id of a webhook endpoint of this account`);
      }
      return { endpoints: page.endpoints.map(view), hasMore: page.hasMore };
    },

    /**
     * Writes one delivery of the event per enabled endpoint subscribed to its type, in `tx` (the
     * transaction that records the event). Returns how many were written.
     */
    async enqueueEvent(event: EventForEndpoints, tx: Db): Promise<number> {
      const targets = await endpoints.subscribedTo({ accountId: event.accountId, api: event.api }, event.type, tx);
      if (targets.length === 0) return 0;
      const payload = typeof event.payload === "string" ? event.payload : await event.payload();
      const now = clock();
      for (const target of targets) {
        await deliveries.enqueue(
          {
            accountId: event.accountId,
            eventId: event.eventId,
            endpointId: target.id,
            subjectType: event.subjectType,
            subjectId: event.subjectId,
            url: target.url,
            payload,
            signature: event.signature,
            nextAttemptAt: now,
          },
          tx,
        );
      }
      return targets.length;
    },
  };
}

export type WebhookEndpointsService = ReturnType<typeof createWebhookEndpointsService>;
