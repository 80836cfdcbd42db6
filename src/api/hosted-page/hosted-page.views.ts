import type { Merchant } from "../../core/checkout-sessions/checkout-sessions.repository.js";
import {
  type CheckoutSession,
  type LineItem,
  checkoutPagePath,
  successRedirectUrl,
} from "../../core/checkout-sessions/checkout-sessions.types.js";
import { type CardErrors, MAX_CARDHOLDER_NAME } from "../../core/payments/card.js";
import { TEST_CARDS } from "../../core/payments/test-provider.js";
import { STYLESHEET } from "./assets.js";
import { CSRF_FIELD } from "./csrf.js";
import {
  CUSTOMER_FIELDS,
  type CustomerErrors,
  type CustomerField,
  type CustomerValues,
  initialCustomerValues,
} from "./customer.js";
import { formatMoney, formatQuantity, formatUtc } from "./format.js";
import { html, type SafeHtml } from "./html.js";

/** What every page about one session shows. */
export interface SessionView {
  session: CheckoutSession;
  merchant: Merchant;
  /** The merchant's re-hosted logo (under PUBLIC_URL), or null. */
  logoUrl: string | null;
  /** The payment provider is the built-in test provider: show the test cards. */
  testMode: boolean;
}

/** The card form's state: what was typed (never the CVC), and what went wrong. */
export interface FormView {
  csrfToken: string;
  values?: { number: string; expiry: string; name: string };
  errors?: CardErrors;
  /** The email and billing address as typed, and what is wrong with them (sessions that ask for them). */
  customer?: CustomerValues;
  customerErrors?: CustomerErrors;
  decline?: string;
}

/** The form's field names, as the browser posts them. */
export const FIELDS = { number: "card_number", expiry: "expiry", cvc: "cvc", name: "name" } as const;

/** An http(s) URL normalised for a link or a Location header; null for anything else. */
export function safeHref(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function layout(title: string, body: SafeHtml): string {
  return `<!doctype html>${html`
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/pay/assets/${STYLESHEET.file}">
</head>
<body>
<main>
${body}
<footer>Secure checkout by Kassa</footer>
</main>
</body>
</html>
`}`;
}

const spaced = (digits: string) => digits.replace(/(\d{4})(?=\d)/g, "$1 ");

function testModeBanner(): SafeHtml {
  return html`<aside class="test-mode" aria-labelledby="test-mode-title">
<h2 id="test-mode-title">Test mode: no money moves</h2>
<ul>
<li><code>${spaced(TEST_CARDS.success)}</code> succeeds</li>
<li><code>${spaced(TEST_CARDS.declined)}</code> is declined</li>
<li><code>${spaced(TEST_CARDS.insufficientFunds)}</code> is declined (insufficient funds)</li>
</ul>
<p>Use any future expiry date and any 3-digit CVC.</p>
</aside>`;
}

function merchantHeader({ merchant, logoUrl: logo }: Pick<SessionView, "merchant" | "logoUrl">): SafeHtml {
  const initial = [...merchant.name.trim()][0]?.toUpperCase() ?? "?";
  return html`<header class="merchant">
${logo ? html`<img class="logo" src="${logo}" alt="" width="48" height="48">` : html`<span class="monogram" aria-hidden="true">${initial}</span>`}
<h1><span class="label">Pay</span> ${merchant.name}</h1>
</header>`;
}

const total = (session: CheckoutSession) => formatMoney(session.amountTotal, session.currency);

/**
 * One line of the summary. A line sold by a unit ("kg") shows its quantity, as one buys so many
 * kilograms; a line of things shows "× 2" beside its name and what it costs.
 */
function lineItem(session: CheckoutSession, item: LineItem): SafeHtml {
  return item.unitLabel
    ? html`<div><dt>${item.description}</dt><dd>${formatQuantity(item.quantity, item.unitLabel)}</dd></div>`
    : html`<div><dt>${item.description} <span class="quantity">${formatQuantity(item.quantity, null)}</span></dt><dd>${formatMoney(item.amount, session.currency)}</dd></div>`;
}

function summary(session: CheckoutSession, withExpiry: boolean): SafeHtml {
  return html`<section class="panel" aria-label="Order summary">
${session.description ? html`<p class="description">${session.description}</p>` : ""}
<dl class="summary">
${session.lineItems.map((item) => lineItem(session, item))}
<div class="total"><dt>Total</dt><dd>${total(session)}</dd></div>
</dl>
${
  withExpiry
    ? html`<p class="expires">This checkout expires <time datetime="${session.expiresAt.toISOString()}">${formatUtc(session.expiresAt)}</time>.</p>`
    : ""
}
</section>`;
}

interface FieldSpec {
  /** The form field's name (and the input's id). */
  name: string;
  label: string;
  autocomplete: string;
  numeric: boolean;
  maxlength: number;
  placeholder?: string;
  value: string;
  error?: string;
  autofocus: boolean;
  required: boolean;
  capitalize?: boolean;
  type?: "text" | "email";
}

function input(spec: FieldSpec): SafeHtml {
  const name = spec.name;
  const errorId = `${name}-error`;
  return html`<div class="field">
<label for="${name}">${spec.label}${spec.required ? "" : html` <span class="optional">(optional)</span>`}</label>
<input id="${name}" name="${name}" type="${spec.type ?? "text"}" autocomplete="${spec.autocomplete}"${spec.numeric ? html` inputmode="numeric"` : ""} maxlength="${spec.maxlength}"${spec.placeholder ? html` placeholder="${spec.placeholder}"` : ""} value="${spec.value}" spellcheck="false" autocapitalize="${spec.capitalize ? "words" : "off"}"${spec.required ? html` required` : ""}${spec.error ? html` aria-invalid="true" aria-describedby="${errorId}"` : ""}${spec.autofocus ? html` autofocus` : ""}>
${spec.error ? html`<p class="field-error" id="${errorId}">${spec.error}</p>` : ""}
</div>`;
}

/** The email and billing-address fields, for sessions that ask for them; the first in error takes the focus. */
function customerInputs(view: SessionView, form: FormView, focus: CustomerField | undefined): SafeHtml {
  const { session } = view;
  if (!session.collectEmail && !session.collectBillingAddress) return html``;
  const values = form.customer ?? initialCustomerValues(session);
  const errors = form.customerErrors ?? {};
  const field = (f: CustomerField, label: string, autocomplete: string, maxlength: number, required: boolean) =>
    input({
      name: CUSTOMER_FIELDS[f],
      label,
      autocomplete,
      numeric: false,
      maxlength,
      value: values[f],
      error: errors[f],
      autofocus: focus === f,
      required,
      type: f === "email" ? "email" : "text",
      capitalize: f === "city" || f === "line1" || f === "line2",
    });
  return html`${session.collectEmail ? field("email", "Email", "email", 254, true) : ""}
${
  session.collectBillingAddress
    ? html`<fieldset class="address"><legend>Billing address</legend>
${field("line1", "Address line 1", "address-line1", 200, true)}
${field("line2", "Address line 2", "address-line2", 200, false)}
<div class="row">
${field("city", "City", "address-level2", 100, true)}
${field("postalCode", "Postal code", "postal-code", 20, true)}
</div>
<div class="row">
${field("state", "State or region", "address-level1", 100, false)}
${field("country", "Country code", "country", 2, true)}
</div>
</fieldset>`
    : ""
}`;
}

function cardForm(view: SessionView, form: FormView): SafeHtml {
  const { session, merchant } = view;
  const errors = form.errors ?? {};
  const values = form.values ?? { number: "", expiry: "", name: "" };
  // The first field in error takes the focus; after a decline, the card number (the customer
  // tries another card, or the same one again: the CVC is never kept).
  const customerError = (Object.keys(CUSTOMER_FIELDS) as CustomerField[]).find((f) => form.customerErrors?.[f]);
  const cardError = (["number", "expiry", "cvc"] as const).find((f) => errors[f]);
  const firstError = customerError ?? cardError;
  const focus = customerError ? undefined : (cardError ?? (form.decline ? "number" : undefined));
  const cancel = session.cancelUrl ? safeHref(session.cancelUrl) : null;
  return html`<section class="panel" aria-labelledby="pay-title">
<h2 class="form-title" id="pay-title">Pay with card</h2>
${form.decline ? html`<div class="alert" role="alert"><strong>Payment declined.</strong> ${form.decline}</div>` : ""}
${firstError ? html`<div class="alert" role="alert">Please correct the highlighted fields.</div>` : ""}
<form method="post" action="${checkoutPagePath(session.id)}" accept-charset="utf-8" novalidate>
<input type="hidden" name="${CSRF_FIELD}" value="${form.csrfToken}">
${customerInputs(view, form, customerError)}
${input({ name: FIELDS.number, label: "Card number", autocomplete: "cc-number", numeric: true, maxlength: 23, placeholder: "1234 1234 1234 1234", value: values.number, error: errors.number, autofocus: focus === "number", required: true })}
<div class="row">
${input({ name: FIELDS.expiry, label: "Expiry date", autocomplete: "cc-exp", numeric: true, maxlength: 9, placeholder: "MM / YY", value: values.expiry, error: errors.expiry, autofocus: focus === "expiry", required: true })}
${input({ name: FIELDS.cvc, label: "CVC", autocomplete: "cc-csc", numeric: true, maxlength: 4, placeholder: "123", value: "", error: errors.cvc, autofocus: focus === "cvc", required: true })}
</div>
${input({ name: FIELDS.name, label: "Name on card", autocomplete: "cc-name", numeric: false, maxlength: MAX_CARDHOLDER_NAME, value: values.name, autofocus: false, required: false, capitalize: true })}
<button type="submit">Pay ${total(session)}</button>
</form>
${cancel ? html`<a class="cancel" href="${cancel}">Cancel and return to ${merchant.name}</a>` : ""}
</section>`;
}

/** The open session: summary and card form. */
export function checkoutPage(view: SessionView, form: FormView): string {
  return layout(
    `Pay ${total(view.session)} to ${view.merchant.name}`,
    html`${view.testMode ? testModeBanner() : ""}
${merchantHeader(view)}
${summary(view.session, true)}
${cardForm(view, form)}`,
  );
}

/** A completed session: paid, with the way back to the merchant. */
export function paidPage(view: SessionView): string {
  const back = safeHref(successRedirectUrl(view.session));
  return layout(
    `Paid: ${view.merchant.name}`,
    html`${merchantHeader(view)}
<section class="panel">
<div class="notice" role="status"><strong>This checkout is paid.</strong> Thank you: your payment was received${view.session.completedAt ? html` on <time datetime="${view.session.completedAt.toISOString()}">${formatUtc(view.session.completedAt)}</time>` : ""}.</div>
${back ? html`<a class="button" href="${back}">Continue to ${view.merchant.name}</a>` : ""}
</section>
${summary(view.session, false)}`,
  );
}

/** An expired session: no form, a way back. */
export function expiredPage(view: SessionView): string {
  const back = view.session.cancelUrl ? safeHref(view.session.cancelUrl) : null;
  return layout(
    `Expired: ${view.merchant.name}`,
    html`${merchantHeader(view)}
<section class="panel">
<div class="alert" role="alert"><strong>This checkout has expired.</strong> It expired on <time datetime="${view.session.expiresAt.toISOString()}">${formatUtc(view.session.expiresAt)}</time> and can no longer be paid. Nothing was charged.</div>
${back ? html`<a class="button" href="${back}">Return to ${view.merchant.name}</a>` : ""}
</section>
${summary(view.session, false)}`,
  );
}

/** Any page that is not about a session's state: not found, forbidden, bad request. */
export function errorPage(title: string, message: string, link?: { href: string; text: string }): string {
  return layout(
    title,
    html`<section class="panel">
<h1>${title}</h1>
<p>${message}</p>
${link ? html`<a class="button" href="${link.href}">${link.text}</a>` : ""}
</section>`,
  );
}
