import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { RateLimitBackend } from "./rate-limit.js";

/** What the app opens once and every surface shares. */
export interface SharedResources {
  rateLimits: RateLimitBackend;
}

/** A request as it is known before routing: enough to tell which surface it was meant for. */
export interface IncomingRequest {
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * A surface's own OpenAPI document, beside the app's main one (CNaught's, at /openapi.json):
 * served at `path`, listing the routes it `covers` (which the main document then leaves out),
 * and offered in /docs' switcher under `title`.
 */
export interface SurfaceDocument {
  path: string;
  title: string;
  /** The document's `info`, `tags`, `components.securitySchemes` and `security`. */
  openapi: {
    info: { title: string; version: string; description?: string };
    tags?: Array<{ name: string; description?: string }>;
    components: { securitySchemes: Record<string, { type: "http"; scheme: string; description?: string }> };
    security: Array<Record<string, string[]>>;
  };
  /** Whether the route at `url` (prefix included) belongs to this document. */
  covers(url: string): boolean;
}

/**
 * One public surface of the app (a vendor API, the hosted page): where it lives and how it
 * speaks. `buildApp` registers each surface in the list it is given, and answers what no route
 * of a surface handled (errors raised before routing: a malformed URL, a header the parser
 * refused) through the first surface that owns the request, so every error speaks the format of
 * the surface it was meant for.
 */
export interface ApiSurface {
  name: string;
  /** Whether the request belongs here: by its path and, on paths two APIs share, its authorization scheme. */
  owns(request: IncomingRequest): boolean;
  /** An error raised before routing, answered in the surface's own format. */
  frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): unknown;
  /** The surface's own OpenAPI document, when it has one. */
  openapi?: SurfaceDocument;
  /**
   * An error answered from below the app (Node's parser refused the request; no request object
   * exists): the body and content type in the surface's format.
   */
  rawError?(status: number, detail: string): RawError;
  /** Registers the surface's routes, hooks, error handler, 404s and 405s. */
  register(app: FastifyInstance, shared: SharedResources): Promise<void>;
}

/** An error body written straight to the socket. */
export interface RawError {
  contentType: string;
  body: string;
}

/** The path of a request URL, without its query. */
export const pathOf = (url: string) => url.split("?", 1)[0] ?? "";

/** The surface a request belongs to, if any. */
export const surfaceOf = (surfaces: readonly ApiSurface[], request: IncomingRequest) =>
  surfaces.find((surface) => surface.owns(request));
