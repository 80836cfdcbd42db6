import type { FastifyRequest } from "fastify";

/**
 * LeanRails' API versions: dates, oldest first. A request names one in `X-API-Version`, or gets
 * its account's default (`kassa accounts api-version`), else the installation's
 * (LEANRAILS_API_VERSION); the response echoes the one used. Only one version exists so far: a
 * later one that changes a shape adds its date here and branches on it where the shape is rendered.
 */
export const LEANRAILS_API_VERSIONS = ["2026-03-09"] as const;

export type LeanRailsApiVersion = (typeof LEANRAILS_API_VERSIONS)[number];

export const LATEST_LEANRAILS_API_VERSION: LeanRailsApiVersion = "2026-03-09";

export const isLeanRailsApiVersion = (value: string): value is LeanRailsApiVersion =>
  (LEANRAILS_API_VERSIONS as readonly string[]).includes(value);

/** The API version each request is served at (the header's, else the default), set on arrival. */
const versions = new WeakMap<FastifyRequest, LeanRailsApiVersion>();

/** Records the version `request` is served at (the surface's first hook does, before anything can fail). */
export const servedAt = (request: FastifyRequest, version: LeanRailsApiVersion) => {
  versions.set(request, version);
};

/** The LeanRails API version the request is served at (and its response says). */
export const apiVersionOf = (request: FastifyRequest): LeanRailsApiVersion =>
  versions.get(request) ?? LATEST_LEANRAILS_API_VERSION;
