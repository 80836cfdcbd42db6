import { z } from "zod";
import type { EndpointChanges } from "../../core/webhook-endpoints/webhook-endpoints.repository.js";
import type {
  CreatedWebhookEndpoint,
  NewWebhookEndpoint,
  WebhookEndpoint,
} from "../../core/webhook-endpoints/webhook-endpoints.service.js";
import { LEANRAILS_EVENT_TYPES } from "./events.schemas.js";

/** What an endpoint may subscribe to: the event types LeanRails publishes, or "*" for all of them. */
export const EnabledEvent = z.enum([LEANRAILS_EVENT_TYPES.completed, LEANRAILS_EVENT_TYPES.expired, "*"]);

/** How a secret reads after creation: its prefix, an ellipsis and its last 4 characters (`whsec_…a1B2`). */
export const maskedSecret = (last4: string) => `whsec_…${last4}`;

export const WEBHOOK_ENDPOINT_ID_PREFIX = "we_";

const url = z.string().min(1).max(2048).describe("Where events are POSTed (http or https)");
const enabledEvents = z.array(EnabledEvent).min(1).max(16).describe('Event types the endpoint receives; "*" for all');
const description = z.string().max(5000).describe("Your own note about the endpoint");

export const CreateWebhookEndpointParams = z.object({
  url,
  enabled_events: enabledEvents,
  description: description.optional(),
});

export const UpdateWebhookEndpointParams = z.object({
  url: url.optional(),
  enabled_events: enabledEvents.optional(),
  status: z.enum(["enabled", "disabled"]).optional(),
  description: description.optional(),
});

export const WebhookEndpointWire = z
  .object({
    id: z.string().describe("we_…"),
    object: z.literal("webhook_endpoint"),
    url: z.string(),
    enabled_events: z.array(z.string()),
    status: z.enum(["enabled", "disabled"]),
    created: z.number().int().describe("Unix seconds"),
    livemode: z.boolean(),
    merchant_id: z.string().describe("The account the endpoint belongs to"),
    secret: z
      .string()
      .describe(
        "The signing secret: in full only in the answer to the create request, afterwards masked (whsec_…last 4)",
      ),
    description: z.string().nullable(),
  })
  .meta({ id: "LeanRailsWebhookEndpoint" });

export const WebhookEndpointList = z
  .object({
    object: z.literal("list"),
    data: z.array(WebhookEndpointWire),
    has_more: z.boolean(),
    url: z.string(),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: "LeanRailsWebhookEndpointList" });

export const fromWireNewEndpoint = (body: z.output<typeof CreateWebhookEndpointParams>): NewWebhookEndpoint => ({
  url: body.url,
  enabledEvents: body.enabled_events,
  description: body.description ?? null,
  idPrefix: WEBHOOK_ENDPOINT_ID_PREFIX,
});

export const fromWireEndpointChanges = (body: z.output<typeof UpdateWebhookEndpointParams>): EndpointChanges => ({
  ...(body.url !== undefined ? { url: body.url } : {}),
  ...(body.enabled_events !== undefined ? { enabledEvents: body.enabled_events } : {}),
  ...(body.status !== undefined ? { status: body.status } : {}),
  ...(body.description !== undefined ? { description: body.description } : {}),
});

export const toWireEndpoint = (
  endpoint: WebhookEndpoint | CreatedWebhookEndpoint,
): z.output<typeof WebhookEndpointWire> => ({
  id: endpoint.id,
  object: "webhook_endpoint",
  url: endpoint.url,
  enabled_events: endpoint.enabledEvents,
  status: endpoint.status,
  created: Math.floor(endpoint.createdAt.getTime() / 1000),
  livemode: false,
  merchant_id: endpoint.accountId,
  secret: "secret" in endpoint ? endpoint.secret : maskedSecret(endpoint.secretLast4),
  description: endpoint.description,
});
