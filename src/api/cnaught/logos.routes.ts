import type { FastifyPluginAsync } from "fastify";
import type { FastifyPluginAsyncZod, ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { invalidRequestFields } from "../../core/errors.js";
import { contentTypeOfLogoId, LOGO_CONTENT_TYPES, LOGO_ID, mediaTypeOf } from "../../core/subaccounts/logos.js";
import type { Services } from "../../core/services.js";
import { notFoundAsError } from "../routing.js";
import type { CnaughtRouteOptions } from "./cnaught.plugin.js";
import { errorResponses, idParams } from "./cnaught.schemas.js";
import { SubaccountBody, SubaccountLogoUrlParams, toWireSubaccount } from "./subaccounts.schemas.js";

const tags = ["Subaccounts"];
const config = { subaccountScoped: false };
const response = { 200: SubaccountBody, ...errorResponses };

const unsupportedType = (sent: string | undefined) =>
  invalidRequestFields({
    "content-type": [
      `'Content-Type' must be one of ${LOGO_CONTENT_TYPES.join(", ")}; it was ${sent ? `'${mediaTypeOf(sent)}'` : "not sent"}`,
    ],
  });

/**
 * A subaccount's logo: from a URL Kassa downloads (POST), from the image bytes (PUT, the only
 * route taking a body other than JSON), or none (DELETE). Each answers the Subaccount, whose
 * logo_url is Kassa's copy.
 */
export const subaccountLogoRoutes: FastifyPluginAsyncZod<CnaughtRouteOptions> = async (
  app,
  { services, publicUrl, idempotency },
) => {
  const maxLogoBytes = services.subaccounts.maxLogoBytes;
  app.post(
    "/subaccounts/:id/logo",
    {
      config,
      schema: {
        operationId: "UpdateSubaccountLogoFromURL",
        summary: "Update subaccount logo from URL",
        description:
          "Kassa downloads the image (PNG, JPEG, WebP or SVG, with its Content-Type; public addresses only in production) and hosts the copy.",
        tags,
        // As on every CNaught POST: a retry with the key replays the first answer.
        headers: idempotency.header,
        params: idParams,
        body: SubaccountLogoUrlParams,
        response,
      },
    },
    async (request) =>
      toWireSubaccount(
        await services.subaccounts.setLogoFromUrl(
          request.principal.accountId,
          request.params.id,
          request.body.logo_url,
        ),
        publicUrl,
      ),
  );

  // Image bodies only here: the four types are read as bytes (up to the logo limit, else 413);
  // anything else, JSON included, is refused as a 400 naming Content-Type, unread.
  await app.register(async (plain) => {
    const upload = plain.withTypeProvider<ZodTypeProvider>();
    upload.removeAllContentTypeParsers();
    upload.addContentTypeParser(LOGO_CONTENT_TYPES, { parseAs: "buffer", bodyLimit: maxLogoBytes }, (_r, body, done) =>
      done(null, body),
    );
    upload.addContentTypeParser("*", (request, _payload, done) =>
      done(unsupportedType(request.headers["content-type"])),
    );

    upload.put(
      "/subaccounts/:id/logo",
      {
        config,
        bodyLimit: maxLogoBytes,
        schema: {
          operationId: "UpdateSubaccountLogoFromUpload",
          summary: "Update subaccount logo by uploading image content",
          description: `The body is the image itself (at most ${maxLogoBytes} bytes), sent with its Content-Type.`,
          tags,
          params: idParams,
          consumes: LOGO_CONTENT_TYPES,
          body: z.custom<Buffer>((value) => Buffer.isBuffer(value)).meta({ type: "string", format: "binary" }),
          response,
        },
      },
      async (request) => {
        const type = request.headers["content-type"];
        if (!Buffer.isBuffer(request.body) || request.body.length === 0) {
          throw invalidRequestFields({ body: ["the image must be sent as the request body"] });
        }
        return toWireSubaccount(
          await services.subaccounts.uploadLogo(request.principal.accountId, request.params.id, request.body, type),
          publicUrl,
        );
      },
    );
  });

  app.delete(
    "/subaccounts/:id/logo",
    {
      config,
      schema: {
        operationId: "RemoveSubaccountLogo",
        summary: "Remove logo from subaccount",
        tags,
        params: idParams,
        response,
      },
    },
    async (request) =>
      toWireSubaccount(
        await services.subaccounts.removeLogo(request.principal.accountId, request.params.id),
        publicUrl,
      ),
  );
};

/** A year: a logo's URL names its bytes for good (a new logo gets a new URL). */
const LOGO_CACHE = "public, max-age=31536000, immutable";

/**
 * The re-hosted logos, public at /logos/<id>.<ext>: served with their type, cached for good, never
 * sniffed, and sandboxed so that a script in an SVG cannot run even when the file is opened itself
 * (in an <img> an SVG runs no script anyway).
 */
export const logoFilesRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  app.get<{ Params: { file: string } }>("/logos/:file", { schema: { hide: true } }, async (request, reply) => {
    const { file } = request.params;
    const type = contentTypeOfLogoId(file);
    const logo = type && LOGO_ID.test(file) ? await services.subaccounts.logoFile(file) : null;
    if (!logo) return notFoundAsError(request, reply);
    const etag = `"${logo.id}"`;
    reply.headers({
      "content-type": logo.contentType,
      "cache-control": LOGO_CACHE,
      etag,
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
      "content-disposition": "inline",
      "cross-origin-resource-policy": "cross-origin",
    });
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply.send(Buffer.from(logo.content));
  });
};
