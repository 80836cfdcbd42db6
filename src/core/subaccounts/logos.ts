/**
 * Subaccount logos: the image types Kassa re-hosts (CNaught's four), how an image's type is told
 * from its bytes, and where a re-hosted logo is served. No HTTP here (see logo-fetcher.ts).
 */

/** The supported types and the extension each logo's file name gets. */
export const LOGO_TYPES = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/webp": "webp",
  "image/svg+xml": "svg",
} as const;

export type LogoContentType = keyof typeof LOGO_TYPES;

export const LOGO_CONTENT_TYPES = Object.keys(LOGO_TYPES) as LogoContentType[];

const TYPE_NAMES: Record<LogoContentType, string> = {
  "image/png": "PNG",
  "image/jpeg": "JPEG",
  "image/webp": "WebP",
  "image/svg+xml": "SVG",
};

export const isLogoContentType = (value: string): value is LogoContentType => Object.hasOwn(LOGO_TYPES, value);

/** A Content-Type header's media type, lower case, without parameters ("image/svg+xml; charset=utf-8" -> "image/svg+xml"). */
export const mediaTypeOf = (header: string | undefined | null): string =>
  (header ?? "").split(";")[0]!.trim().toLowerCase();

/** Where a logo is served, below PUBLIC_URL. */
export const logoPath = (logoId: string) => `/logos/${logoId}`;

/** What a logo id looks like: the random part and a supported extension. */
export const LOGO_ID = /^[A-Za-z0-9]{16}\.(png|jpg|webp|svg)$/;

/** The content type a logo's file name stands for. */
export function contentTypeOfLogoId(logoId: string): LogoContentType | null {
  const ext = LOGO_ID.exec(logoId)?.[1];
  return LOGO_CONTENT_TYPES.find((type) => LOGO_TYPES[type] === ext) ?? null;
}

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0) =>
  bytes.length >= at + signature.length && signature.every((b, i) => bytes[at + i] === b);

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Whether the bytes are an SVG document: UTF-8 text whose first element (after an optional
 * byte-order mark, XML declaration, comments, processing instructions and doctype) is `<svg`.
 */
function isSvg(bytes: Uint8Array): boolean {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return false;
  }
  let rest = text.replace(/^\uFEFF/, "");
  const prolog = /^\s*(?:<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^[>]*(?:\[[\s\S]*?\])?\s*>)/i;
  for (let match = prolog.exec(rest); match; match = prolog.exec(rest)) rest = rest.slice(match[0].length);
  return /^\s*<svg[\s>/]/.test(rest);
}

/** The supported type the bytes are, read from their content (magic bytes; SVG by its first element). */
export function sniffLogoType(bytes: Uint8Array): LogoContentType | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "image/webp";
  if (isSvg(bytes)) return "image/svg+xml";
  return null;
}

const SUPPORTED = "PNG (image/png), JPEG (image/jpeg), WebP (image/webp) or SVG (image/svg+xml)";

/**
 * Why `bytes`, declared as `declaredType` (a Content-Type), cannot be a logo, or null: both the
 * declared type and the content must be one of the four types, and the same one.
 */
export function logoProblem(bytes: Uint8Array, declaredType: string | undefined, maxBytes: number): string | null {
  if (bytes.length === 0) return "is empty";
  if (bytes.length > maxBytes) return `is larger than ${maxBytes} bytes`;
  const declared = mediaTypeOf(declaredType);
  if (!isLogoContentType(declared)) {
    return `has ${declared ? `the Content-Type '${declared}'` : "no Content-Type"}; it must be a ${SUPPORTED} image`;
  }
  const actual = sniffLogoType(bytes);
  if (!actual) return `is not a ${SUPPORTED} image (its content is none of them)`;
  if (actual !== declared) return `is a ${TYPE_NAMES[actual]} image, but its Content-Type says '${declared}'`;
  return null;
}
