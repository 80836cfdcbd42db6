import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/**
 * Why an IP address is no place to send a server-to-server request from a public service:
 * anything but a globally routable unicast address could reach the host itself or the network
 * behind it (server-side request forgery).
 */
export type NonPublicKind =
  | "loopback"
  | "private"
  | "link-local"
  | "unique-local"
  | "shared (CGNAT)"
  | "multicast"
  | "unspecified"
  | "reserved"
  | "not an IP address";

/**
 * IPv4 ranges (ipaddr.js's names) by what they are. A range ipaddr.js adds later and this table
 * does not know is treated as reserved: failing closed.
 */
const V4_KINDS: Record<string, NonPublicKind | null> = {
  unicast: null,
  // Anycast services on public addresses (AS112 DNS sinks, AMT relays).
  as112: null,
  amt: null,
  unspecified: "unspecified",
  broadcast: "reserved",
  multicast: "multicast",
  linkLocal: "link-local",
  loopback: "loopback",
  carrierGradeNat: "shared (CGNAT)",
  private: "private",
  reserved: "reserved",
};

/** IPv6 ranges that carry no IPv4 address, by what they are; unknown ones count as reserved. */
const V6_KINDS: Record<string, NonPublicKind | null> = {
  unicast: null,
  amt: null,
  as112v6: null,
  unspecified: "unspecified",
  loopback: "loopback",
  linkLocal: "link-local",
  multicast: "multicast",
  uniqueLocal: "unique-local",
  deprecatedSiteLocal: "private",
  teredo: "reserved",
};

const kindOf = (kinds: Record<string, NonPublicKind | null>, range: string): NonPublicKind | null =>
  Object.hasOwn(kinds, range) ? (kinds[range] as NonPublicKind | null) : "reserved";

const v4Kind = (address: ipaddr.IPv4): NonPublicKind | null => kindOf(V4_KINDS, address.range());

/** The IPv4 address in two 16-bit groups. */
const v4From = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);

/**
 * An IPv6 address that carries an IPv4 address reaches (or is routed towards) that IPv4 host, so
 * the IPv4 rules decide: IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d, RFC
 * 6145), the deprecated IPv4-compatible (::a.b.c.d), NAT64's well-known prefix (64:ff9b::/96, RFC
 * 6052), 6to4 (2002:AABB:CCDD::/48) and ISATAP interface ids (…:0:5efe:a.b.c.d, RFC 5214).
 */
function embeddedV4(address: ipaddr.IPv6, range: string): ipaddr.IPv4 | null {
  const g = address.parts;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (range === "ipv4Mapped" || range === "rfc6145") return v4From(g[6]!, g[7]!);
  if (range === "rfc6052" && g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4From(g[6]!, g[7]!);
  if (range === "6to4") return v4From(g[1]!, g[2]!);
  // ::a.b.c.d, but not :: or ::1 (their own ranges).
  if (zeros(0, 6) && range !== "unspecified" && range !== "loopback") return v4From(g[6]!, g[7]!);
  if ((g[4] === 0 || g[4] === 0x200) && g[5] === 0x5efe) return v4From(g[6]!, g[7]!);
  return null;
}

function v6Kind(address: ipaddr.IPv6): NonPublicKind | null {
  const range = address.range();
  const v4 = embeddedV4(address, range);
  if (v4) return v4Kind(v4);
  // NAT64's local-use prefix (64:ff9b:1::/48, RFC 8215) reaches a network's own IPv4 hosts.
  if (range === "rfc6052") return "private";
  // The rest of ::/7 (0000::/8 and 0100::/8) is reserved by the IETF.
  if (address.parts[0]! < 0x200 && range === "unicast") return "reserved";
  return kindOf(V6_KINDS, range);
}

/** What makes `address` (an IPv4 or IPv6 address, brackets allowed) non-public, or null when it is public. */
export function nonPublicAddressKind(address: string): NonPublicKind | null {
  const bare = address.replace(/^\[(.*)\]$/, "$1");
  // Node's parser first: ipaddr.js also reads forms such as 0x7f.1 that no resolver returns.
  const family = isIP(bare);
  if (family === 0) return "not an IP address";
  const parsed = ipaddr.parse(bare.replace(/%.*$/, ""));
  return parsed.kind() === "ipv4" ? v4Kind(parsed as ipaddr.IPv4) : v6Kind(parsed as ipaddr.IPv6);
}

/** The message an operator sees when a delivery was refused because of where it would go. */
export const refusedAddressMessage = (address: string, kind: NonPublicKind) =>
  `address ${address} is ${kind}; set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow`;
