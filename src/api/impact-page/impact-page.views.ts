import { EQUIVALENCE_FACTORS, type EquivalentKey } from "../../core/impact/equivalents.js";
import type { Impact } from "../../core/impact/impact.types.js";
import { Decimal } from "../../core/money/money.js";
import { formatDecimal } from "../hosted-page/format.js";
import { html, type SafeHtml } from "../hosted-page/html.js";
import { IMPACT_STYLESHEET } from "./assets.js";

/** What the page shows: the owner's impact, its logo's URL, and the equivalents chosen for it. */
export interface ImpactView {
  impact: Impact;
  logoUrl: string | null;
  equivalents: readonly EquivalentKey[];
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** A day in UTC for people: "3 Mar 2025". */
const formatDay = (date: Date) => `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;

const KG_PER_TONNE = new Decimal(1000);

/** kg CO2e as people read them: tonnes from 1,000 kg ("12.35"), else kg; at most 2 decimals. */
export function formatKg(kg: Decimal): { amount: string; unit: string } {
  return kg.gte(KG_PER_TONNE)
    ? { amount: formatDecimal(kg.div(KG_PER_TONNE).toDecimalPlaces(2, Decimal.ROUND_HALF_UP)), unit: "t CO₂e" }
    : { amount: formatDecimal(kg.toDecimalPlaces(2, Decimal.ROUND_HALF_UP)), unit: "kg CO₂e" };
}

const kgText = (kg: Decimal) => {
  const { amount, unit } = formatKg(kg);
  return `${amount} ${unit}`;
};

/** A share of the total in whole percent (at least 1 when above zero, so a small slice still shows). */
function percentOf(part: Decimal, total: Decimal): number {
  if (total.lte(0)) return 0;
  const percent = part.div(total).times(100).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
  return part.gt(0) ? Math.min(100, Math.max(1, percent)) : 0;
}

// Icons drawn for the page (24 x 24, the current text colour); decorative, hidden from screen readers.
const ICONS: Record<EquivalentKey, string> = {
  carsOffTheRoad:
    "M5 11l1.5-4.5A2 2 0 0 1 8.4 5h7.2a2 2 0 0 1 1.9 1.5L19 11h.5a1.5 1.5 0 0 1 1.5 1.5V17h-2v1.5a1.5 1.5 0 0 1-3 0V17H8v1.5a1.5 1.5 0 0 1-3 0V17H3v-4.5A1.5 1.5 0 0 1 4.5 11H5zm2.1 0h9.8l-1.2-3.6a.5.5 0 0 0-.5-.4H8.8a.5.5 0 0 0-.5.4L7.1 11zM6.5 15a1.25 1.25 0 1 0 0-2.5 1.25 1.25 0 0 0 0 2.5zm11 0a1.25 1.25 0 1 0 0-2.5 1.25 1.25 0 0 0 0 2.5z",
  treesPlanted: "M12 2l5 7h-2.5l4 6H13v5h-2v-5H5.5l4-6H7l5-7z",
  homesAnnualEnergyUsage: "M12 3l9 8h-2.5v9h-5v-6h-3v6h-5v-9H3l9-8z",
  flightsLaxToNyc:
    "M21 15.5v-2l-8-5V3.5a1.5 1.5 0 0 0-3 0v5l-8 5v2l8-2.5V19l-2 1.5V22l3.5-1 3.5 1v-1.5L13 19v-5.5l8 2z",
};

const icon = (key: EquivalentKey) =>
  html`<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="${ICONS[key]}"/></svg>`;

function layout(title: string, body: SafeHtml): string {
  return `<!doctype html>${html`
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/impact/assets/${IMPACT_STYLESHEET.file}">
</head>
<body>
<main>
${body}
<footer>
<p>Equivalents use the US EPA's Greenhouse Gas Equivalencies factors.</p>
<p>Impact page by Kassa</p>
</footer>
</main>
</body>
</html>
`}`;
}

function ownerHeader(name: string, logoUrl: string | null): SafeHtml {
  const initial = [...name.trim()][0]?.toUpperCase() ?? "?";
  return html`<header class="owner">
${logoUrl ? html`<img class="logo" src="${logoUrl}" alt="" width="56" height="56">` : html`<span class="monogram" aria-hidden="true">${initial}</span>`}
<h1><span class="label">Climate impact</span> ${name}</h1>
</header>`;
}

function total(impact: Impact): SafeHtml {
  const { amount, unit } = formatKg(impact.totalKg);
  return html`<section class="panel total" aria-labelledby="total-title">
<h2 id="total-title">Carbon credits retired</h2>
<p class="figure"><span class="amount" data-kg="${impact.totalKg.toFixed()}">${amount}</span><span class="unit">${unit}</span></p>
<p class="since">since <time datetime="${impact.since.toISOString()}">${formatDay(impact.since)}</time></p>
</section>`;
}

function equivalents(view: ImpactView): SafeHtml {
  if (!view.equivalents.length) return html``;
  return html`<section class="panel" aria-labelledby="equivalents-title">
<h2 id="equivalents-title">That is as much CO₂e as</h2>
<ul class="equivalents">
${view.equivalents.map(
  (key) =>
    html`<li data-equivalent="${key}">${icon(key)}<span class="count">${formatDecimal(view.impact.equivalents[key])}</span><span class="what">${EQUIVALENCE_FACTORS[key].units}</span></li>`,
)}
</ul>
</section>`;
}

/** One bar of the chart: the track and the share, sized by SVG attributes (no inline styles). */
const bar = (percent: number, label: string) =>
  html`<svg class="bar" viewBox="0 0 100 14" preserveAspectRatio="none" role="img" aria-label="${label}"><rect class="track" width="100" height="14" rx="7"/><rect class="fill" width="${percent}" height="14" rx="7"/></svg>`;

function chart(impact: Impact): SafeHtml {
  const allocated = impact.categories.reduce((sum, c) => sum.plus(c.offsetKg), new Decimal(0));
  const unallocated = impact.totalKg.minus(allocated);
  const body = impact.categories.length
    ? html`<ul class="chart">
${impact.categories.map((c) => {
  const percent = percentOf(c.offsetKg, impact.totalKg);
  return html`<li data-category>
<div class="bar-label"><span class="name">${c.category.name}</span><span class="value">${kgText(c.offsetKg)} · ${percent}%</span></div>
${bar(percent, `${percent}% of the total`)}
<ul class="projects">
${c.projects.map(
  (p) =>
    html`<li><span>${p.project.name}${p.vintageYears.length ? html`<span class="vintages">Vintages ${p.vintageYears.join(", ")}</span>` : ""}</span><span class="project-kg">${kgText(p.offsetKg)}</span></li>`,
)}
</ul>
</li>`;
})}
</ul>
${unallocated.gt(0) ? html`<p class="note">${kgText(unallocated)} not yet allocated to projects.</p>` : ""}`
    : impact.totalKg.gt(0)
      ? html`<p class="empty">${kgText(impact.totalKg)} not yet allocated to projects.</p>`
      : html`<p class="empty">No carbon credits have been retired yet.</p>`;
  return html`<section class="panel" aria-labelledby="categories-title">
<h2 id="categories-title">By project category</h2>
${body}
</section>`;
}

export function impactPage(view: ImpactView): string {
  return layout(
    `${view.impact.name}: climate impact`,
    html`${ownerHeader(view.impact.name, view.logoUrl)}
${total(view.impact)}
${equivalents(view)}
${chart(view.impact)}`,
  );
}

export function errorPage(title: string, message: string): string {
  return layout(
    title,
    html`<section class="panel">
<h1>${title}</h1>
<p>${message}</p>
</section>`,
  );
}
