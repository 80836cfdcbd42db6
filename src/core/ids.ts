import { customAlphabet } from "nanoid";

// Short URL-safe alphanumeric ids, as CNaught's (sessions like `zpQ6QSNRQh`, portfolios like
// `mHvNvWbq`). 62 symbols: 10 chars ~ 59.5 bits, ample for ids that are also tenant-checked.
const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const alnum = (size: number) => customAlphabet(ALPHANUMERIC, size);

const id10 = alnum(10);
const id8 = alnum(8);
const id16 = alnum(16);
const id24 = alnum(24);
const secret32 = alnum(32);

export const newId = {
  account: () => `acct_${id16()}`,
  apiKey: () => `key_${id16()}`,
  subaccount: () => id10(),
  portfolio: () => id8(),
  checkoutSession: () => id10(),
  lineItem: () => id16(),
  event: () => `evt_${id16()}`,
  order: () => id10(),
  payment: () => `pay_${id16()}`,
  /** Standard Webhooks message ids (`webhook-id`). */
  webhookDelivery: () => `msg_${id16()}`,
  webhookAttempt: () => `wha_${id16()}`,
  /** Without a prefix: the API registering the endpoint gives its own (`we_`). */
  webhookEndpoint: () => id24(),
  idempotencyKey: () => `idk_${id16()}`,
  /** Catalogue ids carry Stripe's prefixes, which every API that names them shows as they are. */
  product: () => `prod_${id16()}`,
  price: () => `price_${id16()}`,
  /** A re-hosted logo (its file name adds the extension). */
  logo: () => id16(),
  /** A public impact page's settings (never shown: the page is found by its slug). */
  impactPage: () => `imp_${id16()}`,
};

/** 32 alphanumeric chars from a CSPRNG: ~190 bits. */
export const newSecret = () => secret32();
