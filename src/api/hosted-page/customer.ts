import type { CheckoutSession, CustomerDetails } from "../../core/checkout-sessions/checkout-sessions.types.js";

/**
 * What the page asks of the customer besides the card: an email address when the session
 * collects one (prefilled with the one the merchant gave), a billing address when it asks for
 * one. Names are the form's; values are checked here, on the server.
 */
export const CUSTOMER_FIELDS = {
  email: "email",
  line1: "address_line1",
  line2: "address_line2",
  city: "address_city",
  postalCode: "address_postal_code",
  state: "address_state",
  country: "address_country",
} as const;

export type CustomerField = keyof typeof CUSTOMER_FIELDS;
export type CustomerValues = Record<CustomerField, string>;
export type CustomerErrors = Partial<Record<CustomerField, string>>;

const MAX = { email: 254, line1: 200, line2: 200, city: 100, postalCode: 20, state: 100, country: 2 } as const;

/** A plausible address: something@something.tld, no spaces (the receiving mail server decides the rest). */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** The values as typed (trimmed, no control characters, no longer than allowed), for checking and showing again. */
export function customerValues(form: Record<string, string | undefined>, session: CheckoutSession): CustomerValues {
  const read = (field: CustomerField) =>
    (form[CUSTOMER_FIELDS[field]] ?? "").replace(CONTROL, "").trim().slice(0, MAX[field]);
  const values = Object.fromEntries(
    (Object.keys(CUSTOMER_FIELDS) as CustomerField[]).map((f) => [f, read(f)]),
  ) as CustomerValues;
  values.country = values.country.toUpperCase();
  if (!session.collectEmail) values.email = "";
  return values;
}

/** The fields the page shows empty at first (the merchant's email prefilled). */
export const initialCustomerValues = (session: CheckoutSession): CustomerValues => ({
  email: session.customerEmail ?? "",
  line1: "",
  line2: "",
  city: "",
  postalCode: "",
  state: "",
  country: "",
});

/** What is wrong with the typed values for this session, field by field. */
export function customerErrors(values: CustomerValues, session: CheckoutSession): CustomerErrors {
  const errors: CustomerErrors = {};
  if (session.collectEmail && !EMAIL.test(values.email)) errors.email = "Enter an email address, like you@example.com.";
  if (session.collectBillingAddress) {
    if (!values.line1) errors.line1 = "Enter the street address.";
    if (!values.city) errors.city = "Enter the city.";
    if (!values.postalCode) errors.postalCode = "Enter the postal code.";
    if (!/^[A-Z]{2}$/.test(values.country)) errors.country = "Enter the two-letter country code, like DE or US.";
  }
  return errors;
}

/** What the session records of its customer once paid (the card's name as the customer's name). */
export function customerDetails(values: CustomerValues, session: CheckoutSession, name: string): CustomerDetails {
  const orNull = (v: string) => v || null;
  return {
    email: orNull(values.email) ?? session.customerEmail,
    name: orNull(name.trim()),
    phone: null,
    address: session.collectBillingAddress
      ? {
          line1: orNull(values.line1),
          line2: orNull(values.line2),
          city: orNull(values.city),
          postalCode: orNull(values.postalCode),
          state: orNull(values.state),
          country: orNull(values.country),
        }
      : null,
  };
}
