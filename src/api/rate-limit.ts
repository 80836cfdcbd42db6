import { createRequire } from "node:module";
import rateLimit, { type FastifyRateLimitStore, normalizeIP } from "@fastify/rate-limit";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Redis } from "ioredis";
import type { Config } from "../config.js";

/**
 * Request limits shared by every API surface: per-key rate limiting (@fastify/rate-limit, in
 * Redis when REDIS_URL is set so instances share one count, in memory otherwise), a per-address
 * budget of failed authentications (the HTTP server's size and time limits are in
 * server-limits.ts). Each surface
 * supplies its own error (CNaught: problem+json 429 with Retry-After). Chosen routes may also
 * take a per-address limit of their own (the hosted page's card form, against card testing).
 */

type Limits = Config["limits"];

// ---------------------------------------------------------------------------------------------
// The counting stores

type StoreCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;
interface CountingStore {
  incr(key: string, callback: StoreCallback, timeWindow: number, max: number): void;
  read(key: string, callback: StoreCallback, timeWindow: number, max: number): void;
}

// The plugin's own stores (fixed window from the first request): reused, not copied.
const requireCjs = createRequire(import.meta.url);
const LocalStore = requireCjs("@fastify/rate-limit/store/LocalStore.js") as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  cacheSize?: number,
) => CountingStore;
const RedisStore = requireCjs("@fastify/rate-limit/store/RedisStore.js") as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  redis: Redis,
  keyPrefix: string,
) => CountingStore;

/** Clients (keys or addresses) one instance tracks in memory; the least recently seen go first. */
const LOCAL_CACHE_SIZE = 10_000;

/** Where one app keeps its counts: built once per app and shared by its API surfaces. */
export interface RateLimitBackend {
  limits: Limits;
  /** Null without REDIS_URL: every count is in this instance's memory. */
  redis: Redis | null;
  /** A Redis command failed: logged once per outage; the count falls back to memory meanwhile. */
  storeFailed(error: unknown): void;
  close(): Promise<void>;
}

/**
 * Opens the Redis connection when REDIS_URL is set. Redis is not needed to serve: if it is down
 * at start or later, each instance counts in its own memory (the limit still holds per instance,
 * so N instances allow at most N times the rate) and goes back to the shared count once Redis
 * answers again. Failing closed would turn a cache outage into a full API outage; failing open
 * with no limit at all would leave the API unprotected exactly when something is wrong.
 */
export async function openRateLimitBackend(limits: Limits, log: FastifyBaseLogger): Promise<RateLimitBackend> {
  let degraded = false;
  const storeFailed = (error: unknown) => {
    if (degraded) return;
    degraded = true;
    log.error({ err: error }, "rate-limit store (Redis) unavailable: counting in memory per instance until it answers");
  };
  if (!limits.redisUrl) return { limits, redis: null, storeFailed, close: async () => {} };

  const redis = new Redis(limits.redisUrl, {
    lazyConnect: true,
    // While disconnected a command fails at once (and the count falls back) instead of queueing
    // and holding the request.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    commandTimeout: 1_000,
    // Reconnects forever (ioredis' default back-off, capped at 2 s).
  });
  redis.on("error", storeFailed); // also keeps ioredis from printing every failed reconnect
  redis.on("ready", () => {
    if (!degraded) return;
    degraded = false;
    log.info("rate-limit store (Redis) is back: counts are shared again");
  });
  try {
    await redis.connect();
  } catch (error) {
    storeFailed(error); // serve anyway; ioredis keeps reconnecting in the background
  }
  return { limits, redis, storeFailed, close: async () => redis.disconnect() };
}

/** The plugin's store: Redis when there is one, this instance's memory when there is not or it fails. */
function storeFor(backend: RateLimitBackend, namespace: string) {
  return class SharedOrLocalStore implements FastifyRateLimitStore {
    private readonly local = new LocalStore(false, false, LOCAL_CACHE_SIZE);
    private readonly shared = backend.redis
      ? new RedisStore(false, false, backend.redis, `kassa:rate-limit:${namespace}:`)
      : null;

    incr(key: string, callback: StoreCallback, timeWindow: number, max: number): void {
      if (!this.shared) {
        this.local.incr(key, callback, timeWindow, max);
        return;
      }
      this.shared.incr(
        key,
        (error, result) => {
          if (!error && result) {
            callback(null, result);
            return;
          }
          backend.storeFailed(error);
          this.local.incr(key, callback, timeWindow, max);
        },
        timeWindow,
        max,
      );
    }

    /** One count per key across all of a surface's routes. */
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

const retryAfterSeconds = (ttlMs: number) => Math.max(1, Math.ceil(ttlMs / 1000));

export type RequestLimiter = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Registers @fastify/rate-limit (not globally) on `app` and returns its check, to be called from
 * a hook: `max` requests per `windowMs` per `keyGenerator` key, in the shared store; past them the
 * surface's 429 is thrown, and every counted answer carries the RateLimit headers. 0 = no limit.
 */
async function counter(
  app: FastifyInstance,
  backend: RateLimitBackend,
  options: AddressLimitOptions & { keyGenerator: (request: FastifyRequest) => string },
): Promise<RequestLimiter> {
  if (options.max === 0) return async () => {};
  await app.register(rateLimit, {
    global: false,
    max: options.max,
    timeWindow: options.windowMs,
    store: storeFor(backend, options.namespace),
    keyGenerator: options.keyGenerator,
    enableDraftSpec: true,
    errorResponseBuilder: (_request, context) => options.limited(retryAfterSeconds(context.ttl)),
  });
  const handler = app.rateLimit();
  return async (request, reply) => {
    await handler.call(app, request, reply);
  };
}

// ---------------------------------------------------------------------------------------------
// Per surface

export interface SurfaceLimitOptions {
  /** Separates this surface's counts from other surfaces' in the shared store. */
  namespace: string;
  /** The surface's own "too many requests" error, thrown to its error handler. */
  limited: (retryAfterSeconds: number) => Error;
}

/** Called by a surface's authentication hook around its key look-up. */
export interface AuthenticationLimiter {
  /** Throws the surface's 429 when this client address has failed authentication too often. */
  beforeAuthentication(request: FastifyRequest): void;
  /** Counts one failed authentication against the client address. */
  authenticationFailed(request: FastifyRequest): void;
  /**
   * Counts the request against its key (`request.principal`, just set) and sets the RateLimit
   * headers; throws the surface's 429 past the limit. Called from the authentication hook itself,
   * so every authenticated request counts: routes, 405s and unknown paths (the not-found handler
   * is no route, so a per-route hook would let a key make uncounted requests there).
   */
  authenticated(request: FastifyRequest, reply: FastifyReply): Promise<void>;
}

/**
 * Limits one API surface (call inside its plugin, before its routes):
 *
 * - Per API key: at most `rateLimit.max` requests per `rateLimit.windowMs` (0 = off), counted
 *   by the surface's authentication hook once the key is known (`authenticated`), so before the
 *   body is parsed, on every path of the surface, unknown ones included. Every answer carries
 *   RateLimit-Limit, -Remaining and -Reset (IETF draft names); a refused one also Retry-After.
 * - Per client address, failed authentications: once an address has failed `authFailures.max`
 *   times in `authFailures.windowMs` (0 = off), its requests are refused before the key is even
 *   hashed or looked up, for the rest of the window. An unauthenticated flood then costs neither
 *   database reads nor hashing. The count is per instance (in memory): it guards each instance's
 *   own resources and costs no Redis round trip on the path every request takes. Behind a reverse
 *   proxy, TRUST_PROXY must be set, or all clients share the proxy's address and budget.
 */
export async function limitSurface(
  app: FastifyInstance,
  backend: RateLimitBackend,
  options: SurfaceLimitOptions,
): Promise<AuthenticationLimiter> {
  const { rateLimit: perKey, authFailures } = backend.limits;
  // Not per route: counted from the surface's authentication hook (see `authenticated`).
  const countKey = await counter(app, backend, {
    ...options,
    ...perKey,
    keyGenerator: (request) => request.principal.keyId,
  });

  if (authFailures.max === 0) {
    return { beforeAuthentication: () => {}, authenticationFailed: () => {}, authenticated: countKey };
  }
  const failures = new LocalStore(false, false, LOCAL_CACHE_SIZE);
  const addressOf = (request: FastifyRequest) => normalizeIP(request.ip ?? "");
  const { max, windowMs } = authFailures;
  return {
    beforeAuthentication(request) {
      let blockedForMs: number | null = null;
      // The in-memory store answers synchronously.
      failures.read(
        addressOf(request),
        (_error, result) => {
          if (result && result.current >= max) blockedForMs = result.ttl;
        },
        windowMs,
        max,
      );
      if (blockedForMs !== null) throw options.limited(retryAfterSeconds(blockedForMs));
    },
    authenticationFailed(request) {
      failures.incr(addressOf(request), () => {}, windowMs, max);
    },
    authenticated: countKey,
  };
}

// ---------------------------------------------------------------------------------------------
// Per route and client address

export interface AddressLimitOptions {
  /** Separates these counts from every other limit's in the shared store. */
  namespace: string;
  /** Requests per client address and window; 0 turns the limit off. */
  max: number;
  windowMs: number;
  /** The surface's own "too many requests" error, thrown to its error handler. */
  limited: (retryAfterSeconds: number) => Error;
}

/**
 * A per-client-address limit for chosen routes (call inside the surface's plugin, put the result
 * in the routes' `onRequest`): each request counts against `request.ip` (X-Forwarded-For only
 * with TRUST_PROXY; an IPv6 client by its /64) before its body is read or anything is looked up,
 * in the shared store (Redis, or memory, with the same fall-back as the per-key limit). Past `max`
 * requests in `windowMs` the surface's 429 is thrown, with Retry-After; every counted answer
 * carries the RateLimit headers.
 */
export async function limitPerAddress(
  app: FastifyInstance,
  backend: RateLimitBackend,
  options: AddressLimitOptions,
): Promise<RequestLimiter> {
  return counter(app, backend, { ...options, keyGenerator: (request) => normalizeIP(request.ip ?? "") });
}
