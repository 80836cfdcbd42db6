/**
 * LeanRails' API versions: dates, oldest first. A request names one in `X-API-Version`, or gets
 * the installation's default (LEANRAILS_API_VERSION); the response echoes the one used. Only one
 * version exists so far: a later one that changes a shape adds its date here and branches on it
 * where the shape is rendered.
 */
export const LEANRAILS_API_VERSIONS = ["2026-03-09"] as const;

export type LeanRailsApiVersion = (typeof LEANRAILS_API_VERSIONS)[number];

export const LATEST_LEANRAILS_API_VERSION: LeanRailsApiVersion = "2026-03-09";

export const isLeanRailsApiVersion = (value: string): value is LeanRailsApiVersion =>
  (LEANRAILS_API_VERSIONS as readonly string[]).includes(value);
