import type { KnownApiVersions } from "../core/accounts/accounts.service.js";
import type { SessionLifecycles } from "../core/checkout-sessions/lifecycle.js";
import type { OrderNotificationFormats } from "../core/orders/orders.types.js";
import type { LifecycleCore } from "../core/services.js";
import type { RetrySchedules, WebhookSigners } from "../core/webhooks/signing.js";
import { cnaughtLifecycle } from "./cnaught/cnaught.lifecycle.js";
import { cnaughtOrderNotification } from "./cnaught/orders.schemas.js";
import { LEANRAILS_API_VERSIONS } from "./leanrails/api-versions.js";
import { LEANRAILS_API } from "./leanrails/events.schemas.js";
import { leanRailsLifecycle } from "./leanrails/leanrails.lifecycle.js";
import { LEANRAILS_RETRIES, LEANRAILS_SIGNATURE, leanRailsSigner } from "./leanrails/webhook-signing.js";
import { OPENCHARGE_API, type OpenchargeRuntime } from "./opencharge/opencharge.js";
import { openchargeLifecycle } from "./opencharge/opencharge.lifecycle.js";

/** How each API renders an order notification, by the `api` its sessions record. */
export const NOTIFICATION_FORMATS: OrderNotificationFormats = {
  cnaught: cnaughtOrderNotification,
};

/** What the APIs' renderings need to know of the installation: where it is published. */
export interface ApiRenderingOptions {
  publicUrl: string;
}

/** What each API does when its sessions complete or expire, by the `api` its sessions record. */
export const apiLifecycles = (
  core: LifecycleCore,
  options: ApiRenderingOptions & { opencharge?: OpenchargeRuntime },
): SessionLifecycles => ({
  cnaught: cnaughtLifecycle(core),
  [LEANRAILS_API]: leanRailsLifecycle(core, options),
  ...(options.opencharge ? { [OPENCHARGE_API]: openchargeLifecycle(core, options.opencharge) } : {}),
});

/** The APIs' own webhook signature schemes, by the name their outbox rows give. */
export const WEBHOOK_SIGNERS: WebhookSigners = {
  [LEANRAILS_SIGNATURE]: leanRailsSigner,
};

/** The retry timetables those schemes' APIs document (others retry with backoff for 24 h). */
export const WEBHOOK_SCHEDULES: RetrySchedules = {
  [LEANRAILS_SIGNATURE]: LEANRAILS_RETRIES,
};

/** The APIs that version their wire format, and their versions: an account may default to one. */
export const API_VERSIONS: KnownApiVersions = {
  [LEANRAILS_API]: LEANRAILS_API_VERSIONS,
};
