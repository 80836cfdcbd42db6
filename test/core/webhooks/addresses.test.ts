import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nonPublicAddressKind } from "../../../src/core/webhooks/addresses.js";
import { createHttpTransport } from "../../../src/core/webhooks/transport.js";
import { privateHostProblem } from "../../../src/core/urls.js";
import { type Receiver, startReceiver } from "./support.js";

describe("which addresses are not public", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.10", "private"],
    ["169.254.169.254", "link-local"],
    ["100.64.0.1", "shared (CGNAT)"],
    ["100.127.255.255", "shared (CGNAT)"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.1.2.3", "private"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["ff02::1", "multicast"],
    ["64:ff9b::7f00:1", "loopback"],
    ["2002:c0a8:0101::1", "private"],
    ["[::1]", "loopback"],
    // IPv4-translated (RFC 2765/6145, ::ffff:0:a.b.c.d), in hex and dotted forms.
    ["::ffff:0:7f00:1", "loopback"],
    ["::ffff:0:127.0.0.1", "loopback"],
    ["::ffff:0:a00:1", "private"],
    ["::ffff:0:a9fe:a9fe", "link-local"],
    // IPv4-compatible (deprecated ::a.b.c.d).
    ["::127.0.0.1", "loopback"],
    ["::a00:1", "private"],
    // NAT64, the well-known prefix (RFC 6052) and the local-use one (RFC 8215).
    ["64:ff9b::10.0.0.1", "private"],
    ["64:ff9b::a9fe:a9fe", "link-local"],
    ["64:ff9b:1::8.8.8.8", "private"],
    // 6to4 (2002::/16) with a private IPv4 address in bits 16-47.
    ["2002:7f00:1::", "loopback"],
    ["2002:a9fe:a9fe::1", "link-local"],
    ["2002:a00:1:1::5", "private"],
    // ISATAP interface ids (::0:5efe:a.b.c.d, ::200:5efe:a.b.c.d) name the IPv4 tunnel end.
    ["2001:470:1:1:0:5efe:10.0.0.1", "private"],
    ["2001:470:1:1:200:5efe:7f00:1", "loopback"],
    ["2001:db8::1", "reserved"],
    ["2001::1", "reserved"],
    ["100::1", "reserved"],
  ])("%s is %s", (address, kind) => {
    expect(nonPublicAddressKind(address)).toBe(kind);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.15.255.255",
    "172.32.0.0",
    "100.63.255.255",
    "100.128.0.0",
    "93.184.215.14",
    "2606:4700:4700::1111",
    "2a00:1450:4001:82b::200e",
    "::ffff:8.8.8.8",
    "::ffff:0:808:808",
    "64:ff9b::8.8.8.8",
    "2002:808:808::1",
    "2001:470:1:1:0:5efe:8.8.8.8",
  ])("%s is public", (address) => {
    expect(nonPublicAddressKind(address)).toBeNull();
  });

  it("an IPv4 address and its IPv4-mapped IPv6 forms are judged alike", () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const n = v4.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
        const hex = `::ffff:${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
        expect(nonPublicAddressKind(`::ffff:${v4}`)).toBe(nonPublicAddressKind(v4));
        expect(nonPublicAddressKind(hex)).toBe(nonPublicAddressKind(v4));
      }),
    );
  });

  it("an IPv4 address is judged alike in every IPv6 form that embeds it", () => {
    const hex = (n: number) => `${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const n = v4.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
        const kind = nonPublicAddressKind(v4);
        for (const embedded of [
          `::ffff:0:${v4}`,
          `::ffff:0:${hex(n)}`,
          `64:ff9b::${v4}`,
          `64:ff9b::${hex(n)}`,
          `2002:${hex(n)}::1`,
          `2606:4700:1:2:0:5efe:${v4}`,
        ]) {
          expect(nonPublicAddressKind(embedded), embedded).toBe(kind);
        }
      }),
      { seed: 14, numRuns: 300 },
    );
  });

  it("anything that is not an IP address is never public", () => {
    expect(nonPublicAddressKind("example.com")).toBe("not an IP address");
    expect(nonPublicAddressKind("")).toBe("not an IP address");
  });
});

describe("notification URLs naming a private host (checked when a session is created)", () => {
  it.each([
    "http://127.0.0.1:8080/hooks",
    "http://localhost/hooks",
    "http://LOCALHOST./hooks",
    "http://shop.localhost/hooks",
    "http://[::1]/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
    "http://[::ffff:0:7f00:1]/",
    "http://[64:ff9b::7f00:1]/hooks",
    "http://[2002:7f00:1::1]/hooks",
    "http://2130706433/hooks",
    "http://0x7f.1/hooks",
    "https://10.0.0.1/hooks",
    "https://169.254.169.254/latest/meta-data",
    "https://[fd00::1]/hooks",
  ])("%s is refused", (url) => {
    expect(privateHostProblem(url)).toMatch(/^must not point at (localhost|an? .+ address \(.+\))$/);
  });

  it.each(["https://shop.example/hooks", "https://8.8.8.8/hooks", "https://[2606:4700::1111]/hooks"])(
    "%s is accepted",
    (url) => {
      expect(privateHostProblem(url)).toBeNull();
    },
  );
});

describe("the transport refuses private addresses unless allowed", () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  const post = (url: string, allowPrivateUrls: boolean) =>
    createHttpTransport({ allowPrivateUrls, timeoutMs: 5_000 })({
      url,
      headers: { "webhook-id": "msg_t" },
      body: "{}",
    });

  it("an IP literal: refused before connecting, with the reason and the setting to change", async () => {
    const before = receiver.requests.length;
    const result = await post(receiver.url, false);
    expect(result).toMatchObject({
      status: null,
      error: "address 127.0.0.1 is loopback; set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow",
    });
    expect(receiver.requests.length).toBe(before);
  });

  it("a name resolving to loopback (localhost): refused at resolution", async () => {
    const before = receiver.requests.length;
    const result = await post(`http://localhost:${receiver.port}/hooks`, false);
    expect(result.status).toBeNull();
    expect(result.error).toMatch(
      /^address (127\.0\.0\.1|::1) is loopback; set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow$/,
    );
    expect(receiver.requests.length).toBe(before);
  });

  it("an IPv4-mapped IPv6 literal is refused too", async () => {
    const result = await post(`http://[::ffff:127.0.0.1]:${receiver.port}/hooks`, false);
    expect(result.error).toMatch(/is loopback; set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow$/);
  });

  it("allowed, the same requests go through", async () => {
    const before = receiver.requests.length;
    expect(await post(receiver.url, true)).toMatchObject({ status: 200, error: null });
    expect(await post(`http://localhost:${receiver.port}/hooks`, true)).toMatchObject({ status: 200, error: null });
    expect(receiver.requests.length).toBe(before + 2);
  });
});
