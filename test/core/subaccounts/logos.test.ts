import { describe, expect, it } from "vitest";
import { contentTypeOfLogoId, logoProblem, sniffLogoType } from "../../../src/core/subaccounts/logos.js";

const text = (s: string) => Buffer.from(s, "utf8");
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);

describe("telling a logo's type from its bytes", () => {
  it.each([
    ["a PNG signature", PNG_SIGNATURE, "image/png"],
    ["a JPEG start of image", Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0, 0x43]), "image/jpeg"],
    ["a RIFF/WEBP header", Buffer.concat([text("RIFF"), Buffer.alloc(4), text("WEBPVP8L")]), "image/webp"],
    ["a bare <svg>", text('<svg xmlns="http://www.w3.org/2000/svg"/>'), "image/svg+xml"],
    [
      "an SVG after a BOM, XML declaration, comment and doctype",
      text(
        '\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- made by hand -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg\nwidth="1"></svg>',
      ),
      "image/svg+xml",
    ],
  ])("%s", (_label, bytes, type) => {
    expect(sniffLogoType(bytes)).toBe(type);
  });

  it.each([
    ["HTML with an SVG inside", text("<html><body><svg></svg></body></html>")],
    ["an element that only starts like svg", text("<svgfoo/>")],
    ["a GIF", text("GIF89a")],
    ["RIFF that is not WebP", Buffer.concat([text("RIFF"), Buffer.alloc(4), text("WAVEfmt ")])],
    ["bytes that are not UTF-8 before <svg", Buffer.concat([Buffer.from([0xc3, 0x28]), text("<svg/>")])],
    ["nothing", Buffer.alloc(0)],
  ])("%s is none of the four", (_label, bytes) => {
    expect(sniffLogoType(bytes)).toBeNull();
  });
});

describe("logoProblem", () => {
  it("accepts bytes of the type they are declared as, Content-Type parameters and case aside", () => {
    expect(logoProblem(PNG_SIGNATURE, "IMAGE/PNG; foo=bar", 1024)).toBeNull();
  });

  it("refuses empty, too large, undeclared, unsupported, unrecognised and mismatched logos", () => {
    expect(logoProblem(Buffer.alloc(0), "image/png", 1024)).toBe("is empty");
    expect(logoProblem(Buffer.concat([PNG_SIGNATURE, Buffer.alloc(2000)]), "image/png", 1024)).toBe(
      "is larger than 1024 bytes",
    );
    expect(logoProblem(PNG_SIGNATURE, undefined, 1024)).toMatch(/^has no Content-Type/);
    expect(logoProblem(PNG_SIGNATURE, "image/gif", 1024)).toMatch(/^has the Content-Type 'image\/gif'/);
    expect(logoProblem(text("hello"), "image/png", 1024)).toMatch(/^is not a PNG/);
    expect(logoProblem(PNG_SIGNATURE, "image/webp", 1024)).toBe(
      "is a PNG image, but its Content-Type says 'image/webp'",
    );
  });
});

describe("logo file names", () => {
  it("name their type by extension; anything else names none", () => {
    expect(contentTypeOfLogoId("AbCdEfGhIjKlMnOp.svg")).toBe("image/svg+xml");
    expect(contentTypeOfLogoId("AbCdEfGhIjKlMnOp.jpg")).toBe("image/jpeg");
    for (const name of ["AbCdEfGhIjKlMnOp.gif", "short.png", "AbCdEfGhIjKlMnOp.png.html", "../AbCdEfGhIjKlMnO.png"]) {
      expect(contentTypeOfLogoId(name), name).toBeNull();
    }
  });
});
