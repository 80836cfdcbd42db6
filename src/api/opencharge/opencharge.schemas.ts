/**
 * The Opencharge surface's wire in zod, for its OpenAPI document (`<base>/openapi.json`): the
 * signed-request headers (the schemas readRequestAuthHeaders checks them with), the create
 * request (the schemas the route checks its body with, in turn: envelope, then order), the
 * answers and the error body. Component names start with "Opencharge": the documents of the
 * other surfaces share zod's one registry.
 *
 * The routes validate by hand, in the protocol's order (signature over the raw bytes first, the
 * body parsed only once the caller is known), so the plugin turns Fastify's schema validation
 * off and these schemas document what the handlers check with the very same objects.
 */
import { z } from "zod";
import { REQUEST_AUTH_HEADER_SCHEMAS } from "./headers.js";
import { OPENCHARGE_ERRORS } from "./opencharge.errors.js";

export { checkoutCreateRequestDocument } from "./order.js";

/** What Kassa serves of the protocol's capabilities. */
export const CAPABILITIES = ["checkout.create"] as const;

const capability = z.enum(CAPABILITIES);

/** The X-OC-* headers of a signed request, all required. */
export const signedRequestHeaders = z.object(REQUEST_AUTH_HEADER_SCHEMAS);

const HEX_SIGNATURE = /^[0-9a-f]{128}(1b|1c)$/;

export const OpenchargeErrorBody = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(OPENCHARGE_ERRORS) as [keyof typeof OPENCHARGE_ERRORS]),
      message: z.string(),
      details: z
        .record(z.string(), z.unknown())
        .optional()
        .meta({ description: "What the code is about: `fields` (path → reasons) for a refused body, `header`, …" }),
    }),
  })
  .meta({ id: "OpenchargeError" });

const metadataConfig = z
  .object({
    publicKey: z
      .string()
      .regex(/^[0-9a-f]{128}$/)
      .meta({ description: "Kassa's secp256k1 public key, 128 hex (x‖y)" }),
    endpoint: z
      .string()
      .meta({ format: "uri", description: "Where Kassa's Opencharge API lives (PUBLIC_URL and base path)" }),
    capabilities: z.array(capability),
    settlement: z.object({
      currencies: z.array(z.string()).meta({ description: "OPENCHARGE_CURRENCIES" }),
      accepts: z.array(z.number().int()).meta({ description: "OCIDs whose proofs Kassa accepts: none" }),
    }),
  })
  .meta({ id: "OpenchargeMetadataConfig" });

export const OpenchargeMetadata = z
  .object({
    opencharge: z.literal("0.1"),
    name: z.string().meta({ description: "OPENCHARGE_NAME" }),
    description: z.string(),
    config: metadataConfig,
    kyc: z.array(z.unknown()).max(0),
    signature: z
      .string()
      .regex(HEX_SIGNATURE)
      .meta({ description: "Kassa's signature over the config's canonical JSON (sorted keys), 130 hex r‖s‖v" }),
  })
  .meta({ id: "OpenchargeMetadata" });

export const OpenchargeCapabilities = z
  .object({
    ocid: z.string().meta({ description: "Kassa's OCID" }),
    caller: z.string().meta({ description: "The signed request's OCID" }),
    capabilities: z.array(capability),
  })
  .meta({ id: "OpenchargeCapabilities" });

export const OpenchargeCheckoutCreateResponse = z
  .object({
    checkout_url: z.string().meta({ format: "uri", description: "Where to send the customer to pay" }),
    session_id: z.string().regex(/^sess_/),
    expires_at: z
      .number()
      .int()
      .meta({ description: "Unix seconds: 30 minutes on, or the order's expiresAt if sooner" }),
  })
  .meta({ id: "OpenchargeCheckoutCreateResponse" });

/** Every answer on the surface, errors included, is signed over its status and exact bytes. */
const SIGNED_ANSWER = `Signed: ${["X-OC-ID", "X-OC-Timestamp", "X-OC-Signature"].join(", ")} over \`ocid\\ntimestamp\\nstatus\\nhex(sha256(body))\`.`;

/** A JSON answer for the OpenAPI document, saying it is signed. */
export const signedJson = (schema: z.ZodType, description: string) => ({
  description: `${description}. ${SIGNED_ANSWER}`,
  content: { "application/json": { schema } },
});

/** Error responses for the OpenAPI document (bodies are sent pre-serialised by the error handler). */
export const errorResponses = {
  400: signedJson(
    OpenchargeErrorBody,
    "INVALID_REQUEST (the envelope), INVALID_ORDER (the order), INVALID_SIGNATURE (the order's signature), ISSUER_NOT_ACCEPTED",
  ),
  401: signedJson(
    OpenchargeErrorBody,
    "INVALID_SIGNATURE (a missing or malformed X-OC-* header, a signature that does not verify), TIMESTAMP_EXPIRED, UNKNOWN_OCID, NONCE_REUSED",
  ),
  413: signedJson(OpenchargeErrorBody, "PAYLOAD_TOO_LARGE (BODY_LIMIT_BYTES)"),
  429: signedJson(OpenchargeErrorBody, "RATE_LIMITED (see Retry-After)"),
} as const;
