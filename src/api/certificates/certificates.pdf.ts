import { type PDFFont, PDFDocument, type PDFPage, rgb, StandardFonts } from "pdf-lib";
import type { CertificateView } from "./certificates.view.js";

/**
 * The certificate as a PDF (A4), with the page's content, drawn with pdf-lib in the process: no
 * browser, no native code, nothing fetched. It uses the PDF standard fonts (Helvetica, Courier),
 * which every reader has, so nothing is embedded; they cover Latin-1 (WinAnsi) only, so a
 * character outside it (a name in another script) is drawn as "?" here, while the HTML page shows
 * it as it is.
 */

const A4 = { width: 595.28, height: 841.89 };
const MARGIN = 56;
const WIDTH = A4.width - 2 * MARGIN;
/** Widths are measured at this size: in the font's own units (thousandths of an em). */
const UNITS = 1000;

const GREEN = rgb(0.17, 0.36, 0.23);
const INK = rgb(0.1, 0.12, 0.21);
const MUTED = rgb(0.36, 0.4, 0.47);

interface Style {
  font: PDFFont;
  size: number;
  color?: ReturnType<typeof rgb>;
  indent?: number;
  /** Space after the block. */
  after?: number;
}

/** Lays text out top to bottom, wrapping lines and starting a new page when one is full. */
class Writer {
  private page: PDFPage;
  private y: number;
  private readonly drawable = new Map<PDFFont, Set<number>>();
  private readonly widths = new Map<PDFFont, Map<string, number>>();

  constructor(private readonly doc: PDFDocument) {
    this.page = doc.addPage([A4.width, A4.height]);
    this.y = A4.height - MARGIN;
  }

  /** The text with what the font cannot draw replaced: control characters by spaces, the rest by "?". */
  private drawableText(font: PDFFont, text: string): string {
    let set = this.drawable.get(font);
    if (!set) {
      set = new Set(font.getCharacterSet());
      this.drawable.set(font, set);
    }
    return [...text]
      .map((c) => {
        const code = c.codePointAt(0)!;
        if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return " ";
        return set.has(code) ? c : "?";
      })
      .join("");
  }

  /**
   * The width of `text` in thousandths of the font size (the font's own units: whole numbers for
   * the standard fonts, so sums of them are exact), measured once per character and per pair of
   * characters and remembered per font: the width of a string grows, character by character, by
   * the width of the pair it ends with less that of its last character (the pair carries the
   * kerning between them).
   */
  private unitsOf(font: PDFFont, text: string): number {
    let widths = this.widths.get(font);
    if (!widths) {
      widths = new Map();
      this.widths.set(font, widths);
    }
    let measured = widths.get(text);
    if (measured === undefined) {
      measured = font.widthOfTextAtSize(text, UNITS);
      widths.set(text, measured);
    }
    return measured;
  }

  /** `units`, the width of a line ending in `last`, grown by `c`. */
  private grow(font: PDFFont, units: number, last: string | undefined, c: string): number {
    if (last === undefined) return units + this.unitsOf(font, c);
    return units + this.unitsOf(font, last + c) - this.unitsOf(font, last);
  }

  /**
   * Lines of at most `width` points: at spaces where it can, inside a word (a serial range, a URL)
   * where it must. Each character is measured once, so a long unbroken word costs no more than
   * its length.
   */
  private wrap(font: PDFFont, size: number, text: string, width: number): string[] {
    const fits = (units: number) => units * (size / UNITS) <= width;
    const lines: string[] = [];
    let line = "";
    let lineUnits = 0;
    let last: string | undefined;
    /** The width of the line with `piece` after it, and the piece's last character. */
    const extended = (piece: string) => {
      let units = lineUnits;
      let end = last;
      for (const c of piece) {
        units = this.grow(font, units, end, c);
        end = c;
      }
      return { units, end };
    };
    for (const word of text.split(/ +/)) {
      const piece = line ? ` ${word}` : word;
      const candidate = extended(piece);
      if (fits(candidate.units)) {
        line += piece;
        lineUnits = candidate.units;
        last = candidate.end;
        continue;
      }
      if (line) lines.push(line);
      line = "";
      lineUnits = 0;
      last = undefined;
      // The word on lines of its own, as many characters on each as fit (at least one).
      for (const c of word) {
        const units = this.grow(font, lineUnits, last, c);
        if (line && !fits(units)) {
          lines.push(line);
          line = c;
          lineUnits = this.grow(font, 0, undefined, c);
        } else {
          line += c;
          lineUnits = units;
        }
        last = c;
      }
    }
    if (line || !lines.length) lines.push(line);
    return lines;
  }

  space(points: number) {
    this.y -= points;
  }

  /** Starts a new page unless `points` still fit on this one. */
  keep(points: number) {
    if (this.y - points < MARGIN) {
      this.page = this.doc.addPage([A4.width, A4.height]);
      this.y = A4.height - MARGIN;
    }
  }

  text(text: string, style: Style) {
    const indent = style.indent ?? 0;
    const leading = style.size * 1.35;
    for (const paragraph of text.split(/\r?\n/)) {
      for (const line of this.wrap(style.font, style.size, this.drawableText(style.font, paragraph), WIDTH - indent)) {
        this.keep(leading);
        this.y -= leading;
        this.page.drawText(line, {
          x: MARGIN + indent,
          y: this.y + (leading - style.size),
          size: style.size,
          font: style.font,
          color: style.color ?? INK,
        });
      }
    }
    this.y -= style.after ?? 0;
  }

  rule() {
    this.keep(12);
    this.y -= 6;
    this.page.drawLine({
      start: { x: MARGIN, y: this.y },
      end: { x: A4.width - MARGIN, y: this.y },
      thickness: 0.75,
      color: rgb(0.81, 0.86, 0.81),
    });
    this.y -= 12;
  }

  band() {
    this.page.drawRectangle({ x: 0, y: A4.height - 14, width: A4.width, height: 14, color: GREEN });
  }
}

/** The certificate's PDF bytes. The same view always gives the same bytes (its dates are the retirement's). */
export async function certificatePdf(c: CertificateView): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(`Certificate of carbon credit retirement, order ${c.orderNumber}`);
  doc.setSubject(`${c.amount} CO2e retired for ${c.buyer}`);
  doc.setAuthor("Kassa");
  doc.setCreator("Kassa");
  doc.setProducer("Kassa (pdf-lib)");
  doc.setCreationDate(c.retiredAt);
  doc.setModificationDate(c.retiredAt);
  const regular = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const mono = await doc.embedFont(StandardFonts.Courier);

  const w = new Writer(doc);
  w.band();
  w.text("CERTIFICATE OF CARBON CREDIT RETIREMENT", { font: bold, size: 10, color: GREEN, after: 10 });
  w.text(c.buyer, { font: bold, size: 24, after: 6 });
  w.text(`${c.amount} CO2e retired (${c.tonnes})`, { font: bold, size: 15, after: 4 });
  if (c.description) w.text(c.description, { font: regular, size: 11, after: 4 });
  w.space(8);
  w.text(`Retired on ${c.retiredOn}`, { font: regular, size: 11 });
  w.text(`Order number ${c.orderNumber}`, { font: regular, size: 11 });
  w.rule();
  w.text("Projects", { font: bold, size: 14, after: 4 });
  for (const p of c.projects) {
    w.keep(60); // a project's name is not left alone at the foot of a page
    w.space(6);
    w.text(p.name, { font: bold, size: 12 });
    if (p.facts.length) w.text(p.facts.join(" - "), { font: regular, size: 10, color: MUTED });
    w.text(`Retired: ${p.amount} CO2e${p.vintages ? ` - Vintage: ${p.vintages}` : ""}`, { font: regular, size: 10.5 });
    if (p.registryUrl) w.text(`Registry: ${p.registryUrl}`, { font: regular, size: 9, color: MUTED });
    for (const r of p.retirements) {
      if (r.serialNumberRange) w.text(`Serial numbers ${r.serialNumberRange}`, { font: mono, size: 9, indent: 12 });
      if (r.url && r.url !== p.registryUrl) w.text(`Registry record: ${r.url}`, { font: regular, size: 9, indent: 12 });
    }
  }
  w.rule();
  w.text("Certificate issued by Kassa", { font: regular, size: 9, color: MUTED });
  return doc.save({ useObjectStreams: false });
}
