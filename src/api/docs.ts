import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { isDeepStrictEqual } from "node:util";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";
import type { ApiSurface } from "./surfaces.js";

type SwaggerTransform = Parameters<typeof jsonSchemaTransform>[0];

/** The decorator a surface's own swagger instance answers under (`app.swagger` is the main document's). */
const decoratorFor = (surface: string) => `${surface}OpenApi`;

/** Only the routes `include` accepts, converted from zod; the others hidden. */
const transformOnly = (include: (url: string) => boolean) => (input: SwaggerTransform) =>
  include(input.url) ? jsonSchemaTransform(input) : { schema: { ...input.schema, hide: true }, url: input.url };

const transformObject = (doc: Parameters<typeof jsonSchemaTransformObject>[0]) =>
  mergeInputComponents(jsonSchemaTransformObject(doc) as Record<string, any>);
import { originsOf } from "./hosted-page/security-headers.js";

/**
 * The OpenAPI 3.1 documents, generated from the routes' zod schemas: the main one (CNaught's) at
 * /openapi.json, and each surface's own (LeanRails' at /leanrails/openapi.json) at its path, with
 * interactive docs at /docs switching between them. `npm run openapi` writes the same documents
 * to openapi/. A route is in exactly one document: its surface's, or the main one.
 */
export async function registerDocs(app: FastifyInstance, publicUrl: string, surfaces: readonly ApiSurface[] = []) {
  const documents = surfaces.flatMap((surface) =>
    surface.openapi ? [{ name: surface.name, doc: surface.openapi }] : [],
  );
  const inMain = (url: string) => !documents.some(({ doc }) => doc.covers(url));
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Kassa",
        version: "1.0.0",
        description:
          "Self-hosted checkout. The CNaught-compatible checkout-session API lives under /v1; authenticate with `Authorization: Bearer <secret key>`.",
      },
      servers: [{ url: publicUrl }],
      components: { securitySchemes: { ApiKey: { type: "http", scheme: "bearer" } } },
      security: [{ ApiKey: [] }],
      tags: [
        { name: "Checkout Sessions", description: "Create and retrieve hosted checkout sessions" },
        { name: "Orders", description: "Endpoints for placing orders and retrieving information about orders" },
        { name: "Portfolios", description: "The portfolios purchases are priced from" },
        { name: "Projects", description: "The carbon projects behind portfolios, with their credit issuances" },
        { name: "Project Categories", description: "Categories of projects, which portfolios allocate to" },
        { name: "Quotes", description: "Price quotes" },
        { name: "Subaccounts", description: "Subaccounts of the calling account" },
        { name: "Climate Impact", description: "The climate impact of retired credits, and the public impact page" },
      ],
    },
    transform: transformOnly(inMain),
    transformObject,
  });
  for (const { name, doc } of documents) {
    await app.register(swagger, {
      decorator: decoratorFor(name),
      openapi: { openapi: "3.1.0", servers: [{ url: publicUrl }], ...doc.openapi },
      transform: transformOnly((url) => doc.covers(url)),
      transformObject,
    });
  }
  const urls = [
    { url: "/openapi.json", name: "CNaught" },
    ...documents.map(({ doc }) => ({ url: doc.path, name: doc.title })),
  ];
  await app.register(async (docs) => {
    const headers = docsSecurityHeaders(publicUrl);
    docs.addHook("onSend", async (_request, reply) => {
      reply.headers(headers);
    });
    // The validator badge would fetch from validator.swagger.io; nothing on the page leaves this origin.
    // With several documents, a switcher in the top bar lists them.
    await docs.register(swaggerUi, {
      routePrefix: "/docs",
      uiConfig: { validatorUrl: null, ...(documents.length ? { urls } : {}) },
    });
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  for (const { name, doc } of documents) {
    app.get(doc.path, { schema: { hide: true } }, async () => openApiDocumentOf(app, name));
  }
}

/** A surface's own document (`main` for /openapi.json's), as served. */
export function openApiDocumentOf(app: FastifyInstance, surface: string | "main"): Record<string, unknown> {
  if (surface === "main") return app.swagger() as unknown as Record<string, unknown>;
  const document = (app as unknown as Record<string, unknown>)[decoratorFor(surface)];
  if (typeof document !== "function") throw new Error(`no OpenAPI document for ${surface}`);
  return document() as Record<string, unknown>;
}

/**
 * The docs share the origin of the hosted checkout page, so they get the page's guards: a CSP
 * that lets Swagger UI run its own scripts and styles from here and nothing else (its React
 * styles set inline need 'unsafe-inline' for styles, never for scripts), "Try it out" calls only
 * to this origin and the document's server (PUBLIC_URL), no framing, no sniffing, no referrer.
 */
const docsSecurityHeaders = (publicUrl: string) => ({
  "content-security-policy": [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src ${["'self'", ...originsOf([publicUrl])].join(" ")}`,
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; "),
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
});

const REF_PREFIX = "#/components/schemas/";

const refsIn = (value: unknown): string[] =>
  [...JSON.stringify(value).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);

/**
 * The zod type provider emits every named schema twice, `X` (output) and `XInput` (input).
 * Keep only the components the paths reach, and give an input schema the vendor's plain name
 * (`CheckoutSessionParams`, not `CheckoutSessionParamsInput`) where that name is free or the
 * two are the same JSON, pointing every $ref at it.
 */
function mergeInputComponents<T extends Record<string, any>>(doc: T): T {
  const schemas: Record<string, unknown> = doc.components?.schemas ?? {};
  const reachable = new Set<string>();
  const pending = refsIn(doc.paths);
  while (pending.length) {
    const name = pending.pop()!;
    if (reachable.has(name) || !(name in schemas)) continue;
    reachable.add(name);
    pending.push(...refsIn(schemas[name]));
  }
  const renames = new Map<string, string>();
  for (const name of reachable) {
    const base = name.endsWith("Input") ? name.slice(0, -"Input".length) : null;
    if (base && (!reachable.has(base) || isDeepStrictEqual(schemas[base], schemas[name]))) renames.set(name, base);
  }
  const rename = (value: unknown) =>
    typeof value === "string" && value.startsWith(REF_PREFIX) && renames.has(value.slice(REF_PREFIX.length))
      ? REF_PREFIX + renames.get(value.slice(REF_PREFIX.length))
      : value;
  const tidy: Record<string, unknown> = {};
  for (const name of [...reachable].sort()) tidy[renames.get(name) ?? name] = schemas[name];
  const result = JSON.parse(JSON.stringify({ ...doc, components: { ...doc.components, schemas: tidy } }), (_k, v) =>
    rename(v),
  );
  return result;
}
