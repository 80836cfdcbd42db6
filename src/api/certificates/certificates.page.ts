import { createHash } from "node:crypto";
import { html, SafeHtml } from "../hosted-page/html.js";
import { CERTIFICATES_PREFIX, PDF_SUFFIX } from "./certificates.urls.js";
import type { CertificateView, ProjectView } from "./certificates.view.js";

/**
 * The certificate's page: server-rendered HTML, no scripts, one inline stylesheet allowed by its
 * hash (so the page is a single request and the policy still admits no other style), readable on
 * a phone and printable.
 */

const CSS = `
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1a1f36; background: #eef3ef; overflow-wrap: anywhere;
}
main { max-width: 46rem; margin: 0 auto; padding: 1rem; }
.certificate { background: #fff; border: 1px solid #cfdccf; border-top: 6px solid #2b5d3a; border-radius: 12px; padding: 1.5rem; }
.eyebrow { margin: 0; text-transform: uppercase; letter-spacing: .08em; font-size: .8rem; color: #2b5d3a; font-weight: 700; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: .35rem 0 .5rem; }
.retired { margin: 0; font-size: 1.1rem; }
.retired strong { font-size: 1.5rem; font-variant-numeric: tabular-nums; }
.tonnes { color: #5c6678; }
.description { margin: .75rem 0 0; white-space: pre-line; }
.facts { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: 1.25rem 0 0; }
.facts dt { font-size: .8rem; color: #5c6678; }
.facts dd { margin: 0; font-weight: 600; }
h2 { font-size: 1.15rem; margin: 1.75rem 0 .75rem; }
.projects { list-style: none; margin: 0; padding: 0; display: grid; gap: .75rem; }
.project { border: 1px solid #dfe3e8; border-radius: 10px; padding: 1rem; }
.project h3 { font-size: 1.05rem; margin: 0; }
.project .about { margin: .15rem 0 0; color: #5c6678; font-size: .9rem; }
.project dl { display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; margin: .6rem 0 0; }
.project dt { font-size: .8rem; color: #5c6678; }
.project dd { margin: 0; font-variant-numeric: tabular-nums; }
.retirements { margin: .6rem 0 0; padding-left: 1.1rem; font-size: .9rem; }
.retirements li { margin: .2rem 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; word-break: break-all; }
a { color: #1d5fbf; }
.download { margin: 1.5rem 0 0; }
.button { display: inline-block; background: #2b5d3a; color: #fff; text-decoration: none; padding: .6rem 1rem; border-radius: 8px; font-weight: 600; }
footer { margin: 1rem 0 2rem; font-size: .8rem; color: #5c6678; text-align: center; }
.missing h1 { font-size: 1.35rem; }
@media (max-width: 30rem) { .certificate { padding: 1rem; } h1 { font-size: 1.35rem; } }
@media print { body { background: #fff; } .download, footer { display: none; } .certificate { border: 0; } }
`;

/** The stylesheet goes in as it is (it is ours, and escaping would change its hash). */
const STYLE = new SafeHtml(CSS);

/** The stylesheet's hash, which the Content-Security-Policy names. */
export const STYLE_HASH = `'sha256-${createHash("sha256").update(CSS).digest("base64")}'`;

function layout(title: string, body: SafeHtml): string {
  return `<!doctype html>${html`
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
<footer>Certificate issued by Kassa</footer>
</main>
</body>
</html>
`}`;
}

const link = (url: string | null, text: string) =>
  url ? html`<a href="${url}" rel="noopener noreferrer">${text}</a>` : html`${text}`;

function project(p: ProjectView): SafeHtml {
  return html`<li class="project">
<h3>${link(p.registryUrl, p.name)}</h3>
${p.facts.length ? html`<p class="about">${p.facts.join(" · ")}</p>` : ""}
<dl>
<div><dt>Retired</dt><dd>${p.amount} CO₂e</dd></div>
${p.vintages ? html`<div><dt>Vintage</dt><dd>${p.vintages}</dd></div>` : ""}
</dl>
${
  p.retirements.length
    ? html`<ul class="retirements" aria-label="Retirements">
${p.retirements.map(
  (r) =>
    html`<li>${r.serialNumberRange ? html`Serial numbers <code>${r.serialNumberRange}</code>` : "Retired"}${r.url ? html` · ${link(r.url, "registry record")}` : ""}</li>`,
)}
</ul>`
    : ""
}
</li>`;
}

export function certificatePage(c: CertificateView): string {
  const pdf = `${CERTIFICATES_PREFIX}/${encodeURIComponent(c.orderId)}${PDF_SUFFIX}`;
  return layout(
    `Certificate: ${c.amount} CO₂e retired for ${c.buyer}`,
    html`<article class="certificate" aria-labelledby="buyer">
<p class="eyebrow">Certificate of carbon credit retirement</p>
<h1 id="buyer">${c.buyer}</h1>
<p class="retired"><strong>${c.amount}</strong> CO₂e retired <span class="tonnes">(${c.tonnes})</span></p>
${c.description ? html`<p class="description">${c.description}</p>` : ""}
<dl class="facts">
<div><dt>Retired on</dt><dd><time datetime="${c.retiredAt.toISOString()}">${c.retiredOn}</time></dd></div>
<div><dt>Order number</dt><dd>${c.orderNumber}</dd></div>
</dl>
<h2>Projects</h2>
<ol class="projects">
${c.projects.map(project)}
</ol>
<p class="download"><a class="button" href="${pdf}" download>Download PDF</a></p>
</article>`,
  );
}

const MESSAGES: Record<number, { title: string; message: string }> = {
  404: {
    title: "Certificate not found",
    message: "There is no certificate at this address. The order may not be fulfilled yet, or it was cancelled.",
  },
  405: { title: "Method not allowed", message: "This page can only be read." },
  429: { title: "Too many requests", message: "Please wait a moment and try again." },
  500: { title: "Something went wrong", message: "The certificate could not be shown. Please try again in a moment." },
};

/** The page for an error status; never internals. */
export function errorPage(status: number): string {
  const page = MESSAGES[status] ?? MESSAGES[status >= 500 ? 500 : 404]!;
  return layout(
    page.title,
    html`<article class="certificate missing"><h1>${page.title}</h1><p>${page.message}</p></article>`,
  );
}
