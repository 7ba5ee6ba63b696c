// Which IP addresses a server-side fetch of a URL that a member gave us may connect to: only
// globally reachable unicast ones. Everything else (loopback, private networks, link-local and
// cloud metadata, carrier-grade NAT, multicast, documentation and benchmark ranges, reserved
// space, and IPv6 forms that carry such an IPv4 address: mapped, compatible, NAT64, 6to4, Teredo)
// would let a member make our servers reach places only they can reach. Ranges from the IANA
// IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and its updates).

type V4Range = [number, number]; // network as a 32-bit number, prefix length

const V4_NOT_PUBLIC: V4Range[] = [
  [v4('0.0.0.0'), 8], // "this network"
  [v4('10.0.0.0'), 8], // private
  [v4('100.64.0.0'), 10], // carrier-grade NAT
  [v4('127.0.0.0'), 8], // loopback
  [v4('169.254.0.0'), 16], // link-local, cloud metadata (169.254.169.254)
  [v4('172.16.0.0'), 12], // private
  [v4('192.0.0.0'), 24], // IETF protocol assignments
  [v4('192.0.2.0'), 24], // documentation
  [v4('192.31.196.0'), 24], // AS112
  [v4('192.52.193.0'), 24], // AMT
  [v4('192.88.99.0'), 24], // 6to4 relay anycast (deprecated)
  [v4('192.168.0.0'), 16], // private
  [v4('192.175.48.0'), 24], // AS112 direct delegation
  [v4('198.18.0.0'), 15], // benchmarking
  [v4('198.51.100.0'), 24], // documentation
  [v4('203.0.113.0'), 24], // documentation
  [v4('224.0.0.0'), 4], // multicast
  [v4('240.0.0.0'), 4], // reserved, and 255.255.255.255 broadcast
];

function v4(text: string): number {
  const parts = text.split('.').map(Number);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** A dotted-quad IPv4 address as a 32-bit number, or null when `text` is not one. */
export function parseIPv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

function inV4Range(addr: number, [net, bits]: V4Range): boolean {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (addr & mask) >>> 0 === net;
}

function isPublicV4(addr: number): boolean {
  return !V4_NOT_PUBLIC.some((r) => inV4Range(addr, r));
}

/** An IPv6 address as its eight 16-bit groups, or null when `text` is not one (zones refused). */
export function parseIPv6(text: string): number[] | null {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length > 45) return null;
  let hex = text;
  if (text.includes('.')) {
    // A trailing dotted quad (::ffff:1.2.3.4) is the last two groups written in decimal.
    const lastColon = text.lastIndexOf(':');
    const embedded = parseIPv4(text.slice(lastColon + 1));
    if (embedded === null) return null;
    hex = `${text.slice(0, lastColon + 1)}${(embedded >>> 16).toString(16)}:${(embedded & 0xffff).toString(16)}`;
  }
  const halves = hex.split('::');
  if (halves.length > 2) return null;
  const group = (s: string) => (s === '' ? [] : s.split(':'));
  const left = group(halves[0]);
  const right = halves.length === 2 ? group(halves[1]) : [];
  if ([...left, ...right].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  const present = left.length + right.length;
  if (halves.length === 1 ? present !== 8 : present > 7) return null;
  const zeros = new Array<number>(8 - present).fill(0);
  return [...left.map((g) => parseInt(g, 16)), ...zeros, ...right.map((g) => parseInt(g, 16))];
}

function embeddedV4(g: number[], hi: number, lo: number): number {
  return ((g[hi] << 16) | g[lo]) >>> 0;
}

function isPublicV6(g: number[]): boolean {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated): the IPv4 address decides;
  // :: and ::1 fall in the compatible form's 0.0.0.0/8.
  if (zeroUpTo(5) && g[5] === 0xffff) return isPublicV4(embeddedV4(g, 6, 7));
  if (zeroUpTo(6)) return false;
  // 64:ff9b::/96, NAT64 of an IPv4 address: the IPv4 address decides. 64:ff9b:1::/48 is local use.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return isPublicV4(embeddedV4(g, 6, 7));
  // Only global unicast (2000::/3) is public; that excludes ULA fc00::/7, link-local fe80::/10,
  // site-local fec0::/10, multicast ff00::/8, discard 100::/64 and the rest of the reserved space.
  if ((g[0] & 0xe000) !== 0x2000) return false;
  if (g[0] === 0x2001 && g[1] < 0x200) return false; // 2001::/23 IETF assignments, Teredo 2001::/32
  if (g[0] === 0x2001 && g[1] === 0x0db8) return false; // documentation
  if (g[0] === 0x2002) return false; // 6to4: carries an IPv4 address of any kind
  if ((g[0] & 0xfff0) === 0x3ff0) return false; // 3fff::/20 documentation
  return true;
}

/** True only for a globally reachable unicast IPv4 or IPv6 address; anything unparsable is false. */
export function isPublicAddress(address: string): boolean {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const a4 = parseIPv4(text);
  if (a4 !== null) return isPublicV4(a4);
  const a6 = parseIPv6(text);
  return a6 !== null && isPublicV6(a6);
}

/** Whether a URL's hostname is an IP literal (then no DNS is asked). */
export function isIpLiteral(hostname: string): boolean {
  const text = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return parseIPv4(text) !== null || parseIPv6(text) !== null;
}
