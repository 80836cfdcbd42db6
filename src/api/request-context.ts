import type { Principal } from "../core/api-keys/api-keys.service.js";
import type { Scope } from "../core/scope.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by an API surface's auth hook; routes behind it can rely on it. */
    principal: Principal;
    /** The tenant scope the request acts in (account, and subaccount when one was named). */
    scope: Scope;
  }
}
