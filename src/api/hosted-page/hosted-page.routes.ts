import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { CheckoutSession, CustomerDetails } from "../../core/checkout-sessions/checkout-sessions.types.js";
import { checkoutPagePath, successRedirectUrl } from "../../core/checkout-sessions/checkout-sessions.types.js";
import { isAppError, notFound } from "../../core/errors.js";
import { type CardErrors, MAX_CARDHOLDER_NAME, validateCard } from "../../core/payments/card.js";
import type { CardDetails } from "../../core/payments/payment-provider.js";
import type { Services } from "../../core/services.js";
import { logoPath } from "../../core/subaccounts/logos.js";
import type { RequestLimiter } from "../rate-limit.js";
import { CSRF_FIELD, type Csrf, csrfCookieValues } from "./csrf.js";
import { type CustomerErrors, customerDetails, customerErrors, customerValues } from "./customer.js";
import { sendPage } from "./hosted-page.errors.js";
import {
  checkoutPage,
  errorPage,
  expiredPage,
  FIELDS,
  type FormView,
  paidPage,
  type SessionView,
  safeHref,
} from "./hosted-page.views.js";
import { contentSecurityPolicy, originsOf } from "./security-headers.js";

export interface HostedPageRouteOptions {
  services: Services;
  csrf: Csrf;
  /** Counts a card-form submission against its client address; throws the 429 past the limit. */
  limitPayments: RequestLimiter;
  /** Where re-hosted logos are served (PUBLIC_URL). */
  publicUrl: string;
}

/** Session ids are short alphanumerics; anything else cannot exist and never reaches the store. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The form as posted (first value of each name), or empty when nothing parsable was sent. */
type FormFields = Record<string, string | undefined>;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
const CONTROL = /[\u0000-\u001f\u007f]/g;
/** A typed value as it is shown again: no control characters, no more than the input allows. */
const retyped = (value: string | undefined, max: number) => (value ?? "").replace(CONTROL, "").slice(0, max);

export const hostedPageRoutes: FastifyPluginAsync<HostedPageRouteOptions> = async (
  app,
  { services, csrf, limitPayments, publicUrl },
) => {
  const testMode = services.adapters.paymentProvider.name === "test";
  const logoOrigins = originsOf([publicUrl]);

  async function loadView(id: string): Promise<SessionView> {
    if (!SESSION_ID.test(id)) throw notFound("checkout_session", id);
    const { session, merchant } = await services.checkoutSessions.getForPage(id);
    return { session, merchant, logoUrl: merchant.logoId ? publicUrl + logoPath(merchant.logoId) : null, testMode };
  }

  /**
   * The page may post here and be redirected to the session's own URLs, nowhere else. The success
   * origin is the one the 303 goes to: with the session id put in, since the template may sit in
   * the host name.
   */
  const allowFormTargets = (reply: FastifyReply, session: CheckoutSession) =>
    reply.header(
      "content-security-policy",
      contentSecurityPolicy(
        originsOf([successRedirectUrl(session), session.cancelUrl ?? ""].filter(Boolean)),
        logoOrigins,
      ),
    );

  /** 303 to success_url with the id put in; the paid page if the stored URL cannot be followed. */
  function toSuccess(reply: FastifyReply, view: SessionView) {
    const target = safeHref(successRedirectUrl(view.session));
    return target ? reply.redirect(target, 303) : sendPage(reply, 200, paidPage(view));
  }

  function statePage(reply: FastifyReply, view: SessionView, status = 200) {
    return view.session.state === "complete"
      ? sendPage(reply, status, paidPage(view))
      : sendPage(reply, status, expiredPage(view));
  }

  app.get<{ Params: { id: string } }>("/:id", { schema: { hide: true } }, async (request, reply) => {
    const view = await loadView(request.params.id);
    allowFormTargets(reply, view.session);
    if (view.session.state !== "open") return statePage(reply, view);

    let cookie = csrfCookieValues(request.headers.cookie)[0];
    if (!cookie) {
      cookie = csrf.newCookieValue();
      reply.header("set-cookie", csrf.setCookieHeader(cookie));
    }
    const csrfToken = await csrf.tokenFor(cookie, view.session.id);
    return sendPage(reply, 200, checkoutPage(view, { csrfToken }));
  });

  // Counted on request, before the body is parsed, the session read or the CSRF token checked.
  const postOptions = { schema: { hide: true }, onRequest: limitPayments };
  app.post<{ Params: { id: string } }>("/:id", postOptions, async (request, reply) => {
    const view = await loadView(request.params.id);
    const { session } = view;
    allowFormTargets(reply, session);
    const form = (request.body ?? {}) as FormFields;

    const token = form[CSRF_FIELD];
    if (!(await csrf.verify(csrfCookieValues(request.headers.cookie), session.id, token))) {
      request.log.warn({ checkout_session_id: session.id }, "hosted page: form refused, missing or bad CSRF token");
      return sendPage(
        reply,
        403,
        errorPage(
          "Please try again",
          "This payment form could not be verified (it may be out of date, or your browser blocked its cookie). Nothing was charged. Reload the page and try again.",
          { href: checkoutPagePath(session.id), text: "Reload the checkout page" },
        ),
      );
    }

    // A second submit of a paid session (a double click, a second tab) lands where the first did.
    if (session.state === "complete") return toSuccess(reply, view);
    if (session.state === "expired") return statePage(reply, view, 409);

    const values = {
      number: retyped(form[FIELDS.number], 64),
      expiry: retyped(form[FIELDS.expiry], 16),
      name: retyped(form[FIELDS.name], MAX_CARDHOLDER_NAME),
    };
    const customer = customerValues(form, session);
    const rerender = (
      status: number,
      extra: { errors?: CardErrors; customerErrors?: CustomerErrors; decline?: string },
    ) => {
      const state: FormView = { csrfToken: token!, values, customer, ...extra };
      return sendPage(reply, status, checkoutPage(view, state));
    };

    const checked = validateCard(
      { number: values.number, expiry: values.expiry, cvc: retyped(form[FIELDS.cvc], 16), name: values.name },
      services.clock(),
    );
    const invalidCustomer = customerErrors(customer, session);
    if ("errors" in checked || Object.keys(invalidCustomer).length) {
      return rerender(422, { errors: "errors" in checked ? checked.errors : {}, customerErrors: invalidCustomer });
    }

    const outcome = await payOrExpired(session.id, checked.card, customerDetails(customer, session, values.name));
    if (outcome === "expired") return statePage(reply, await loadView(session.id), 409);
    if (outcome.outcome === "declined") {
      request.log.info({ checkout_session_id: session.id, decline_code: outcome.code }, "hosted page: card declined");
      return rerender(402, { decline: outcome.message });
    }
    return toSuccess(reply, { ...view, session: outcome.session });
  });

  /** Pays; a session that expired between reading and paying comes back as "expired". */
  async function payOrExpired(id: string, card: CardDetails, customer: CustomerDetails) {
    try {
      return await services.checkoutSessions.pay(id, card, customer);
    } catch (error) {
      if (isAppError(error) && error.code === "invalid_state") return "expired" as const;
      throw error;
    }
  }
};
