import { describe, expect, it } from "vitest";
import { unstorableTextParam } from "../../../src/api/leanrails/leanrails.plugin.js";

describe("unstorableTextParam", () => {
  it("names the wire path of a string PostgreSQL cannot store, however deep", () => {
    const body = {
      mode: "payment",
      line_items: [
        { quantity: 1, price_data: { currency: "eur", product: "Mug", unit_amount: 850 } },
        { quantity: 2, price_data: { currency: "eur", product: "T\u0000shirt", unit_amount: 2000 } },
      ],
    };
    expect(unstorableTextParam(body)).toBe("line_items[1][price_data][product]");
    expect(unstorableTextParam({ metadata: { note: "a\ud800b" } })).toBe("metadata[note]");
    expect(unstorableTextParam({ client_reference_id: "\udc00" })).toBe("client_reference_id");
  });

  it("names the object holding a key it cannot store, or the key itself at the top", () => {
    expect(unstorableTextParam({ metadata: { "bad\u0000key": "x" } })).toBe("metadata");
    expect(unstorableTextParam({ "bad\u0000key": "x" })).toBe("bad\u0000key");
  });

  it("is null for text it can store, paired surrogates included, and for a bare string at the top it names nothing", () => {
    expect(unstorableTextParam({ line_items: [{ price_data: { product: "Mug \ud83d\ude00" } }] })).toBeNull();
    expect(unstorableTextParam(undefined)).toBeNull();
    expect(unstorableTextParam("\u0000")).toBe("");
  });
});
