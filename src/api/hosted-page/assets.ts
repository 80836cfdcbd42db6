import { createHash } from "node:crypto";

/**
 * The page's only stylesheet. It lives in code rather than a .css file so the compiled build
 * (dist/) carries it without a copy step; it is served under a content-hashed name, so it can be
 * cached for a year and a new release still reaches every browser at once.
 */
const CHECKOUT_CSS = `
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1a1f36;
  background: #f6f8fa;
  overflow-wrap: anywhere;
}
main { max-width: 30rem; margin: 0 auto; padding: 1rem; }
.panel { background: #fff; border: 1px solid #dfe3e8; border-radius: 12px; padding: 1.25rem; margin-top: 1rem; }
.test-mode {
  background: #fff4e5; border: 1px solid #f5b35c; border-radius: 12px; padding: .75rem 1rem; font-size: .9rem;
}
.test-mode h2 { font-size: .95rem; margin: 0 0 .25rem; }
.test-mode ul { margin: .25rem 0; padding-left: 1.25rem; }
.test-mode p { margin: .25rem 0 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .95em; white-space: nowrap; }
.merchant { display: flex; align-items: center; gap: .75rem; margin-top: 1rem; }
.merchant h1 { font-size: 1.25rem; margin: 0; line-height: 1.3; }
.merchant .label { display: block; font-size: .8rem; color: #5c6678; font-weight: normal; }
.logo, .monogram { width: 48px; height: 48px; border-radius: 10px; flex: none; }
.logo { object-fit: contain; background: #fff; border: 1px solid #dfe3e8; }
.monogram {
  display: grid; place-items: center; background: #2b5d3a; color: #fff; font-weight: 700; font-size: 1.35rem;
}
.description { margin: 0 0 .75rem; white-space: pre-line; }
.summary { margin: 0; }
.summary div { display: flex; justify-content: space-between; gap: 1rem; padding: .35rem 0; }
.summary dt { color: #5c6678; }
.summary dd { margin: 0; font-variant-numeric: tabular-nums; text-align: right; }
.summary .total { border-top: 1px solid #dfe3e8; margin-top: .25rem; padding-top: .6rem; font-weight: 700; }
.summary .total dt { color: inherit; }
.expires { margin: .75rem 0 0; font-size: .875rem; color: #5c6678; }
h2.form-title { font-size: 1.05rem; margin: 0 0 .75rem; }
.field { margin-bottom: .9rem; }
.row { display: flex; gap: .75rem; }
.row .field { flex: 1 1 0; min-width: 0; }
label { display: block; font-weight: 600; font-size: .9rem; margin-bottom: .3rem; }
label .optional { font-weight: normal; color: #5c6678; }
input[type="text"] {
  display: block; width: 100%; font: inherit; font-size: 1rem; padding: .65rem .75rem; color: inherit;
  border: 1px solid #8792a2; border-radius: 8px; background: #fff;
}
input[aria-invalid="true"] { border-color: #c0123c; border-width: 2px; }
.field-error { color: #c0123c; font-size: .875rem; margin: .3rem 0 0; }
.alert {
  background: #fdecef; border: 1px solid #c0123c; color: #8a0c2a; border-radius: 8px; padding: .75rem 1rem;
  margin: 0 0 1rem;
}
.notice { border-radius: 8px; padding: .75rem 1rem; margin: 0 0 1rem; background: #e8f5ec; border: 1px solid #2b5d3a; }
button, .button {
  display: block; width: 100%; font: inherit; font-weight: 700; font-size: 1.05rem; text-align: center;
  padding: .8rem 1rem; border: 0; border-radius: 8px; background: #2b5d3a; color: #fff; cursor: pointer;
  text-decoration: none;
}
button:hover, .button:hover { background: #234c30; }
.cancel { display: block; text-align: center; margin-top: .9rem; color: #3c4a63; }
:focus-visible { outline: 3px solid #1a73e8; outline-offset: 2px; }
input[type="text"]:focus-visible { outline: 3px solid #1a73e8; outline-offset: 1px; border-color: #1a73e8; }
footer { text-align: center; font-size: .8rem; color: #5c6678; margin: 1.25rem 0 .5rem; }
@media (max-width: 360px) { .row { flex-direction: column; gap: 0; } main { padding: .75rem; } }
`.trimStart();

const hash = createHash("sha256").update(CHECKOUT_CSS).digest("hex").slice(0, 12);

export const STYLESHEET = {
  /** The file name under /pay/assets/, content-hashed. */
  file: `checkout.${hash}.css`,
  body: CHECKOUT_CSS,
  etag: `"${hash}"`,
};
