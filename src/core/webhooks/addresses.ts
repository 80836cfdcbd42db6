import { isIP } from "node:net";

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

type V4Range = [network: number, prefix: number, kind: NonPublicKind];

const V4_RANGES: V4Range[] = [
  [ipv4("0.0.0.0"), 8, "unspecified"],
  [ipv4("10.0.0.0"), 8, "private"],
  [ipv4("100.64.0.0"), 10, "shared (CGNAT)"],
  [ipv4("127.0.0.0"), 8, "loopback"],
  [ipv4("169.254.0.0"), 16, "link-local"],
  [ipv4("172.16.0.0"), 12, "private"],
  [ipv4("192.0.0.0"), 24, "reserved"],
  [ipv4("192.0.2.0"), 24, "reserved"],
  [ipv4("192.168.0.0"), 16, "private"],
  [ipv4("198.18.0.0"), 15, "reserved"],
  [ipv4("198.51.100.0"), 24, "reserved"],
  [ipv4("203.0.113.0"), 24, "reserved"],
  [ipv4("224.0.0.0"), 4, "multicast"],
  [ipv4("240.0.0.0"), 4, "reserved"],
];

function ipv4(text: string): number {
  return text.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

function ipv4Kind(address: number): NonPublicKind | null {
  for (const [network, prefix, kind] of V4_RANGES) {
    const size = 2 ** (32 - prefix);
    if (address >= network && address < network + size) return kind;
  }
  return null;
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped, a trailing dotted quad folded in). */
function ipv6Groups(text: string): number[] {
  let address = text.replace(/%.*$/, "").toLowerCase();
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (quad) {
    const n = ipv4(quad[1]!);
    address = `${address.slice(0, -quad[1]!.length)}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const [head = "", tail] = address.split("::");
  const parse = (part: string) => (part ? part.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}

const embeddedV4 = (high: number, low: number) => high * 65536 + low;

function ipv6Kind(g: number[]): NonPublicKind | null {
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 8)) return "unspecified";
  if (zeros(0, 7) && g[7] === 1) return "loopback";
  // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d): the IPv4 rules decide.
  if (zeros(0, 5) && (g[5] === 0xffff || g[5] === 0)) return ipv4Kind(embeddedV4(g[6]!, g[7]!));
  // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address; its local-use block is private.
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return ipv4Kind(embeddedV4(g[6]!, g[7]!));
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return "private";
  // 6to4 (2002::/16) carries an IPv4 address in bits 16-47.
  if (g[0] === 0x2002) return ipv4Kind(embeddedV4(g[1]!, g[2]!));
  const first = g[0]!;
  if ((first & 0xffc0) === 0xfe80) return "link-local";
  if ((first & 0xffc0) === 0xfec0) return "private"; // deprecated site-local
  if ((first & 0xfe00) === 0xfc00) return "unique-local";
  if ((first & 0xff00) === 0xff00) return "multicast";
  if (first === 0x2001 && (g[1] === 0 || g[1] === 0xdb8)) return "reserved"; // Teredo, documentation
  if (first === 0x100 && zeros(1, 4)) return "reserved"; // discard-only
  return null;
}

/** What makes `address` (an IPv4 or IPv6 address, brackets allowed) non-public, or null when it is public. */
export function nonPublicAddressKind(address: string): NonPublicKind | null {
  const bare = address.replace(/^\[(.*)\]$/, "$1");
  switch (isIP(bare)) {
    case 4:
      return ipv4Kind(ipv4(bare));
    case 6:
      return ipv6Kind(ipv6Groups(bare));
    default:
      return "not an IP address";
  }
}

/** The message an operator sees when a delivery was refused because of where it would go. */
export const refusedAddressMessage = (address: string, kind: NonPublicKind) =>
  `address ${address} is ${kind}; set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow`;
