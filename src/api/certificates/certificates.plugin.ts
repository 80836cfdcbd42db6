import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { isAppError, notFound, rateLimited } from "../../core/errors.js";
import type { Services } from "../../core/services.js";
import { limitPerAddress, type RateLimitBackend } from "../rate-limit.js";
import { methodNotAllowed, notFoundAsError, trackRoutes } from "../routing.js";
import { applySecurityHeaders, securityHeaders, servedOverHttps } from "../hosted-page/security-headers.js";
import { type ApiSurface, pathOf } from "../surfaces.js";
import { certificatePage, errorPage, STYLE_HASH } from "./certificates.page.js";
import { certificatePdf } from "./certificates.pdf.js";
import { CERTIFICATES_PREFIX, PDF_SUFFIX } from "./certificates.urls.js";
import { certificateView } from "./certificates.view.js";

export interface CertificatesOptions {
  services: Services;
  publicUrl: string;
  rateLimits: RateLimitBackend;
}

const HTML = "text/html; charset=utf-8";

/** What an order id may look like; anything else is not looked up. */
const ORDER_ID = /^[0-9A-Za-z]{1,64}$/;

/**
 * The hosted page's headers, with this page's own policy: no scripts, no forms, its one inline
 * stylesheet by hash, no images but data: (the favicon), never framed.
 */
function certificateHeaders(https: boolean): Record<string, string> {
  return {
    ...securityHeaders(https),
    "content-security-policy": [
      "default-src 'none'",
      `style-src ${STYLE_HASH}`,
      "img-src data:",
      "form-action 'none'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join("; "),
  };
}

function statusOf(error: FastifyError): number {
  if (isAppError(error)) return error.code === "not_found" ? 404 : error.code === "rate_limited" ? 429 : 400;
  return error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
}

/** Anything thrown here becomes an HTML page: a 4xx with its message, or a bare 500 logged in full. */
function certificateErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const status = statusOf(error);
  if (isAppError(error) && error.details.retryAfterSeconds !== undefined)
    reply.header("retry-after", String(error.details.retryAfterSeconds));
  if (status === 500) request.log.error({ err: error }, "unhandled error on a certificate page");
  return reply.code(status).type(HTML).send(errorPage(status));
}

/**
 * Public certificates of fulfilled orders (mounted at /certificates, no authentication): the
 * page at /certificates/<orderId> and its PDF at /certificates/<orderId>.pdf. An unknown, placed
 * or cancelled order has no certificate: 404, as a page. Every request counts against its client
 * address (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_MS, as the impact pages), before anything is
 * looked up or drawn: a PDF costs CPU, and anyone may ask for one.
 */
export const certificates: FastifyPluginAsync<CertificatesOptions> = async (app, options) => {
  const { services, publicUrl } = options;
  const headers = certificateHeaders(servedOverHttps(publicUrl));
  app.setErrorHandler(certificateErrorHandler);
  app.setNotFoundHandler(notFoundAsError);
  app.addHook("onSend", async (_request, reply) => applySecurityHeaders(reply, headers));

  const limit = await limitPerAddress(app, options.rateLimits, {
    namespace: "certificates",
    ...options.rateLimits.limits.rateLimit,
    limited: rateLimited,
  });

  const routes = trackRoutes(app);
  app.get<{ Params: { name: string } }>(
    "/:name",
    { schema: { hide: true }, onRequest: limit },
    async (request, reply) => {
      const { name } = request.params;
      const pdf = name.endsWith(PDF_SUFFIX);
      const id = pdf ? name.slice(0, -PDF_SUFFIX.length) : name;
      if (!ORDER_ID.test(id)) throw notFound("certificate", id);
      const view = certificateView(await services.orders.certificate(id));
      if (!pdf) return reply.type(HTML).send(certificatePage(view));
      const bytes = await certificatePdf(view);
      return reply
        .type("application/pdf")
        .header("content-disposition", `inline; filename="certificate-${view.orderNumber}.pdf"`)
        .send(Buffer.from(bytes));
    },
  );
  await app.register(methodNotAllowed(routes));
};

/** The certificates as one of the app's surfaces: /certificates/, HTML (and PDF) for anyone. */
export const certificatesSurface = (options: Omit<CertificatesOptions, "rateLimits">): ApiSurface => ({
  name: "certificates",
  owns: (request) => pathOf(request.url).startsWith(`${CERTIFICATES_PREFIX}/`),
  frameworkError: (error, request, reply) => {
    // The plugin's hooks do not run for errors raised before routing.
    applySecurityHeaders(reply, certificateHeaders(servedOverHttps(options.publicUrl)));
    return certificateErrorHandler(error, request, reply);
  },
  rawError: (status) => ({ contentType: HTML, body: errorPage(status) }),
  async register(app, { rateLimits }) {
    await app.register(certificates, { prefix: CERTIFICATES_PREFIX, ...options, rateLimits });
  },
});
