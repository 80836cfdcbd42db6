import type { Services } from "../../core/services.js";
import type { HttpIdempotency } from "../idempotency/hooks.js";

export interface LeanRailsRouteOptions {
  services: Services;
  publicUrl: string;
  idempotency: HttpIdempotency;
}
