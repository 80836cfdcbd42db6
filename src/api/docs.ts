import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";

/**
 * The OpenAPI 3.1 document, generated from the routes' zod schemas, at /openapi.json, with
 * interactive docs at /docs. `npm run openapi` writes the same document to openapi/openapi.json.
 */
export async function registerDocs(app: FastifyInstance, publicUrl: string) {
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
        { name: "Portfolios", description: "The portfolios purchases are priced from" },
        { name: "Quotes", description: "Price quotes" },
        { name: "Subaccounts", description: "Subaccounts of the calling account" },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
