import { inflateSync } from "node:zlib";

/**
 * The text drawn on a PDF's pages, read from the file's bytes without the library that wrote it:
 * every Flate-compressed stream is inflated with Node's zlib, and the strings shown by its text
 * operators (`<hex> Tj` and `(literal) Tj`) are decoded as Latin-1, one per line.
 */
export function pdfText(bytes: Uint8Array): string {
  const pdf = Buffer.from(bytes).toString("latin1");
  const lines: string[] = [];
  for (const match of pdf.matchAll(/<<([\s\S]*?)>>\s*stream\r?\n/g)) {
    if (!/\/FlateDecode/.test(match[1]!)) continue;
    const start = match.index! + match[0].length;
    const end = pdf.indexOf("endstream", start);
    let content: string;
    try {
      content = inflateSync(Buffer.from(pdf.slice(start, end), "latin1")).toString("latin1");
    } catch {
      continue; // not a stream of text (a font, an image)
    }
    for (const op of content.matchAll(/<([0-9A-Fa-f]*)>\s*Tj|\(((?:\\.|[^\\)])*)\)\s*Tj/g)) {
      lines.push(
        op[1] !== undefined ? Buffer.from(op[1], "hex").toString("latin1") : op[2]!.replace(/\\([()\\])/g, "$1"),
      );
    }
  }
  return lines.join("\n");
}
