import "../request-context.js";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import { z } from "zod";
import {
  idempotencyConcurrentRequests,
  idempotencyKeyRequired,
  idempotencyKeyTooLong,
  invalidParameter,
} from "../../core/errors.js";
import type { IdempotencyService } from "../../core/idempotency/idempotency.service.js";
import {
  IDEMPOTENCY_KEY_TTL_HOURS,
  type IdempotencyClaim,
  type IdempotencyRecord,
  KeyAnswered,
  type StoredResponse,
  type WithinWrite,
  type Written,
} from "../../core/idempotency/idempotency.types.js";
import type { Db } from "../../db/database.js";
import { requestHash } from "./hashing.js";
import { type RouteResponse, replayedHeaders, sendResponse, sendStored, storedResponse } from "./responses.js";

/**
 * Idempotency-Key over HTTP, for any API surface: the surface gives its policy (key space, key
 * length, whether a key is required) and its own error handler renders the core's errors
 * (idempotency_key_too_long, _required, _changed_payload, _concurrent_requests) in its format.
 *
 * A route takes part by declaring the header in its schema (`idempotency.header`): what the
 * OpenAPI document promises and what the server does cannot drift apart. Per request:
 * - preValidation: the key is checked (missing, too long) before anything else about the request;
 * - preHandler (after auth and scope): the key is claimed, or the stored response replayed with
 *   `X-Idempotent-Replay: true`, or the request refused (changed payload, concurrent request);
 * - the handler passes `idempotency.within(...)` to the service that writes, which stores the
 *   response inside the write's own transaction (or statement) and returns either its result or
 *   the stored response of the key's first request; `idempotency.send` sends what it came to,
 *   the stored bytes when there are some (rendered once);
 * - onSend, before the client sees anything: a success not stored that way (a request that
 *   writes nothing) is stored now, in its own statement; a failure releases the key, so the
 *   request can be fixed and retried with it. Doing this before the response leaves means a
 *   client that retries the moment it has its answer finds the key already settled.
 *
 * A 5xx releases the key too (Stripe stores them; we need not): a 5xx here means the write's
 * transaction rolled back, so nothing was created and running the retry is the right answer.
 *
 * A route whose write is one SQL statement (creating a checkout session) may instead claim the
 * key with the write (`config: { claimKeyWithWrite: true }`): nothing is claimed beforehand, and
 * the statement records the key, complete with its response, together with what it creates, in
 * one round trip. A second request with the key waits for the first's statement at the key's
 * primary key, fails its statement (nothing of it is written) and then replays the first's
 * response; the outcomes (replay, 422, 409) are the same as above.
 * When the handler fails before writing, the key is looked up then, so a retry of a request that
 * succeeded still replays its first response.
 */

const IDEMPOTENCY_KEY_HEADER = "idempotency-key";

export interface IdempotencyPolicy {
  /** The key space (each API has its own; the same key sent to two APIs is two keys). */
  api: string;
  maxKeyLength: number;
  /** Whether every request of a route that declares the header must send a key. */
  required: boolean;
  /**
   * Whether a 4xx answer from the handler is stored and replayed like a success (LeanRails)
   * instead of releasing the key so the fixed request may reuse it (CNaught, Stripe).
   */
  replayClientErrors?: boolean;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * The route's write records its Idempotency-Key itself, in the same statement (see above).
     * Only for routes whose handler passes `within(...)` to a write made in one statement: without
     * it nothing holds the key while the request runs, and concurrent duplicates would both run.
     */
    claimKeyWithWrite?: boolean;
  }
}

type RequestState =
  | { step: "keyed"; key: string; body: unknown }
  | { step: "running"; record: IdempotencyRecord; stored: StoredResponse | null }
  | { step: "with-write"; claim: IdempotencyClaim; stored: StoredResponse | null }
  | { step: "settled" };

export function createHttpIdempotency(
  service: Pick<IdempotencyService, "begin" | "complete" | "completion" | "release" | "claimWithWrite" | "replayFor">,
  policy: IdempotencyPolicy,
) {
  const states = new WeakMap<FastifyRequest, RequestState>();

  const keyDescription =
    `Makes the request safe to retry: a retry with the same key and the same request returns the first response ` +
    `(with X-Idempotent-Replay: true) instead of acting twice. At most ${policy.maxKeyLength} characters; ` +
    `remembered ${IDEMPOTENCY_KEY_TTL_HOURS} hours.`;
  const header = z.object({
    [IDEMPOTENCY_KEY_HEADER]: policy.required
      ? z.string().max(policy.maxKeyLength).describe(keyDescription)
      : z.string().max(policy.maxKeyLength).optional().describe(keyDescription),
  });

  function readKey(request: FastifyRequest): string | undefined {
    const raw = request.headers[IDEMPOTENCY_KEY_HEADER];
    return Array.isArray(raw) ? raw.join(", ") : raw;
  }

  /** Runs before schema validation, so a bad key is reported as such, not as a schema error. */
  async function checkKey(request: FastifyRequest) {
    const key = readKey(request);
    if (key === undefined) {
      if (policy.required) throw idempotencyKeyRequired();
      return;
    }
    // A header sent blank is a client's bug (an unset variable), not a request without a key:
    // running it unprotected would let its retry act twice, so it is refused.
    if (key.trim() === "") {
      throw invalidParameter(IDEMPOTENCY_KEY_HEADER, `'${IDEMPOTENCY_KEY_HEADER}' must not be empty`);
    }
    if (key.length > policy.maxKeyLength) throw idempotencyKeyTooLong(policy.maxKeyLength);
    // The body as sent: validation may replace it with defaults, trimmed strings, dropped fields.
    states.set(request, { step: "keyed", key, body: request.body });
  }

  const replay = (request: FastifyRequest, reply: FastifyReply, response: StoredResponse) => {
    states.set(request, { step: "settled" });
    return sendStored(reply, response, true);
  };

  async function claimKey(request: FastifyRequest, reply: FastifyReply) {
    const state = states.get(request);
    if (state?.step !== "keyed") return;
    const scope = request.scope?.subaccountId ?? "";
    const claim: IdempotencyClaim = {
      accountId: request.principal.accountId,
      scope,
      api: policy.api,
      key: state.key,
      requestHash: requestHash({ method: request.method, url: request.url, scope, body: state.body }),
    };
    if (request.routeOptions.config.claimKeyWithWrite) {
      states.set(request, { step: "with-write", claim, stored: null });
      return;
    }
    const outcome = await service.begin(claim);
    if (outcome.kind === "replay") return replay(request, reply, outcome.response);
    states.set(request, { step: "running", record: outcome.record, stored: null });
  }

  /** Runs the key's record statement on its own (or in `tx`); a key already there is answered by `refused`. */
  async function recordWithWrite(claim: IdempotencyClaim, response: StoredResponse, tx?: Db) {
    const write = service.claimWithWrite(claim, response);
    if (await write.run(tx)) return;
    const verdict = await write.refused(tx);
    // In a transaction the write cannot be run again: the client may retry (409).
    if (verdict === "retry") throw idempotencyConcurrentRequests();
    throw new KeyAnswered(verdict.response); // rolls the write back; the service returns the replay
  }

  const shouldStore = (status: number) => status < 400 || (policy.replayClientErrors === true && status < 500);

  async function settle(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
    const state = states.get(request);
    if (state?.step !== "running" && state?.step !== "with-write") return payload;
    states.set(request, { step: "settled" });
    const body = typeof payload === "string" ? payload : Buffer.isBuffer(payload) ? payload.toString("utf8") : null;
    const store = shouldStore(reply.statusCode) && (body !== null || payload == null);
    const response = () => ({ status: reply.statusCode, headers: replayedHeaders(reply), body: body ?? "" });
    try {
      if (state.step === "with-write") {
        // Nothing was claimed: a success the write did not record is recorded now (if still absent).
        if (store && !state.stored) await service.claimWithWrite(state.claim, response()).run();
      } else if (store) {
        if (!state.stored) await service.complete(state.record, response());
      } else {
        await service.release(state.record);
      }
    } catch (error) {
      // The answer stands; the key stays in flight until its lease passes, then a retry takes it over.
      request.log.warn({ err: error }, "could not settle the idempotency key");
    }
    return payload;
  }

  return {
    policy,
    /** The header as routes declare it (`headers: subaccountHeader.extend(idempotency.header.shape)`). */
    header,

    /** Adds the key's hooks to every route registered below `app` from here on that declares the header. */
    register(app: FastifyInstance) {
      app.addHook("onRoute", (route: RouteOptions) => {
        if (!declaresKeyHeader(route)) return;
        route.preValidation = [...hooks(route.preValidation), checkKey] as RouteOptions["preValidation"];
        route.preHandler = [...hooks(route.preHandler), claimKey] as RouteOptions["preHandler"];
        route.onSend = [...hooks(route.onSend), settle] as RouteOptions["onSend"];
      });
    },

    /**
     * Wraps the surface's error handler: a request whose key is claimed with its write, failing
     * before the write, is answered with the key's stored response when it has one (the retry of
     * a request that succeeded).
     */
    errorHandler<E extends FastifyError>(
      handler: (error: E, request: FastifyRequest, reply: FastifyReply) => unknown,
    ): (error: E, request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
      return async (error, request, reply) => {
        const state = states.get(request);
        if (state?.step === "with-write") {
          try {
            const stored = await service.replayFor(state.claim);
            if (stored) return replay(request, reply, stored);
          } catch (keyError) {
            states.set(request, { step: "settled" });
            return handler(keyError as E, request, reply);
          }
        }
        return handler(error, request, reply);
      };
    },

    /**
     * For the write: the idempotency record the service stores with the objects it creates (in
     * its transaction, or in its one statement; see WithinWrite): `render(result)`, the response,
     * rendered once and kept for `send`. Undefined when the request has no key.
     */
    within<T>(
      request: FastifyRequest,
      reply: FastifyReply,
      render: (result: T) => RouteResponse,
    ): WithinWrite<T> | undefined {
      const state = states.get(request);
      if (state?.step !== "running" && state?.step !== "with-write") return undefined;
      const rendered = (result: T) => {
        state.stored = storedResponse(reply, render(result));
        return state.stored;
      };
      if (state.step === "running") {
        const record = state.record;
        return {
          async inTransaction(tx, result) {
            await service.complete(record, rendered(result), tx);
          },
          statement(result) {
            return {
              sql: service.completion(record, rendered(result)),
              // The key was taken over by a retry (this request's lease passed): only the retry's write stands.
              refused: async () => {
                throw idempotencyConcurrentRequests();
              },
            };
          },
        };
      }
      const claim = state.claim;
      return {
        async inTransaction(tx, result) {
          await recordWithWrite(claim, rendered(result), tx);
        },
        statement(result) {
          const write = service.claimWithWrite(claim, rendered(result));
          return {
            sql: write.sql,
            isRefusal: write.isTaken,
            async refused() {
              const verdict = await write.refused();
              return verdict === "retry" ? "retry" : verdict.response;
            },
          };
        },
      };
    },

    /**
     * Sends what a write came to: the stored response of the key's first request (a replay), the
     * response stored with this write (the same bytes), or, without a key, `render(result)`.
     */
    send<T>(request: FastifyRequest, reply: FastifyReply, written: Written<T>, render: (result: T) => RouteResponse) {
      if (written.kind === "replay") return replay(request, reply, written.response);
      const state = states.get(request);
      const stored = state?.step === "running" || state?.step === "with-write" ? state.stored : null;
      return stored ? sendStored(reply, stored, false) : sendResponse(reply, render(written.result));
    },
  };
}

export type HttpIdempotency = ReturnType<typeof createHttpIdempotency>;

function declaresKeyHeader(route: RouteOptions): boolean {
  const headers = route.schema?.headers as { shape?: Record<string, unknown> } | undefined;
  return Boolean(headers?.shape && IDEMPOTENCY_KEY_HEADER in headers.shape);
}

const hooks = (value: unknown): unknown[] => (value === undefined ? [] : [value].flat());
