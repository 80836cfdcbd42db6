import { createHash } from "node:crypto";

/**
 * The impact page's only stylesheet, in code so the compiled build carries it, served under a
 * content-hashed name (cached for a year; a new release is a new name). No inline styles: the
 * page's Content-Security-Policy allows styles from here only, and the chart's bars are sized by
 * SVG attributes, which that policy does not govern.
 */
const IMPACT_CSS = `
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #17231b;
  background: #f3f6f2;
  overflow-wrap: anywhere;
}
main { max-width: 44rem; margin: 0 auto; padding: 1rem; }
.owner { display: flex; align-items: center; gap: .75rem; margin: .5rem 0 1rem; }
.owner h1 { font-size: 1.4rem; margin: 0; line-height: 1.25; }
.owner .label { display: block; font-size: .8rem; color: #4f6354; font-weight: 600; letter-spacing: .04em; text-transform: uppercase; }
.logo, .monogram { width: 56px; height: 56px; border-radius: 12px; flex: none; }
.logo { object-fit: contain; background: #fff; border: 1px solid #d7e0d6; }
.monogram { display: grid; place-items: center; background: #2b5d3a; color: #fff; font-weight: 700; font-size: 1.5rem; }
.panel { background: #fff; border: 1px solid #d7e0d6; border-radius: 14px; padding: 1.25rem; margin-top: 1rem; }
.panel h2 { font-size: 1rem; margin: 0 0 .75rem; color: #2b3d30; }
.total { background: #2b5d3a; border-color: #2b5d3a; color: #fff; }
.total h2 { color: #d9ead9; font-weight: 600; }
.total .figure { margin: 0; line-height: 1.1; }
.total .amount { font-size: 2.75rem; font-weight: 800; font-variant-numeric: tabular-nums; }
.total .unit { font-size: 1.1rem; font-weight: 600; margin-left: .35rem; }
.total .since { margin: .6rem 0 0; color: #d9ead9; font-size: .95rem; }
.equivalents { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: .75rem; }
.equivalents li { display: flex; flex-direction: column; gap: .25rem; padding: .85rem; border-radius: 10px; background: #eef4ec; min-width: 0; }
.equivalents svg { width: 28px; height: 28px; color: #2b5d3a; }
.equivalents .count { font-size: 1.5rem; font-weight: 800; font-variant-numeric: tabular-nums; line-height: 1.1; }
.equivalents .what { font-size: .9rem; color: #3d5042; }
.chart { list-style: none; margin: 0; padding: 0; }
.chart > li { padding: .75rem 0; border-top: 1px solid #e4ebe3; }
.chart > li:first-child { border-top: 0; padding-top: 0; }
.bar-label { display: flex; justify-content: space-between; align-items: baseline; gap: .75rem; flex-wrap: wrap; }
.bar-label .name { font-weight: 700; }
.bar-label .value { font-variant-numeric: tabular-nums; color: #3d5042; white-space: nowrap; }
.bar { display: block; width: 100%; height: 14px; margin: .4rem 0 .5rem; }
.bar .track { fill: #e4ebe3; }
.bar .fill { fill: #3f8a55; }
.projects { list-style: none; margin: 0; padding: 0; font-size: .9rem; color: #3d5042; }
.projects li { display: flex; justify-content: space-between; gap: .75rem; padding: .15rem 0; }
.projects .project-kg { white-space: nowrap; font-variant-numeric: tabular-nums; }
.projects .vintages { display: block; color: #5d7062; font-size: .8rem; }
.note { font-size: .875rem; color: #4f6354; margin: .75rem 0 0; }
.empty { margin: 0; color: #3d5042; }
footer { text-align: center; font-size: .8rem; color: #4f6354; margin: 1.5rem 0 .5rem; }
footer p { margin: .25rem 0; }
:focus-visible { outline: 3px solid #1a73e8; outline-offset: 2px; }
@media (max-width: 360px) { main { padding: .75rem; } .total .amount { font-size: 2.25rem; } }
`.trimStart();

const hash = createHash("sha256").update(IMPACT_CSS).digest("hex").slice(0, 12);

export const IMPACT_STYLESHEET = {
  /** The file name under /impact/assets/, content-hashed. */
  file: `impact.${hash}.css`,
  body: IMPACT_CSS,
  etag: `"${hash}"`,
};
