/**
 * Who is on the other end of an HTTP request: the address the runtime saw connect, or,
 * when that peer is one of SMARTHOST_TRUSTED_PROXIES, the address it says it forwarded for.
 * Each entry (serve.ts, deno.ts, worker.ts) finds its runtime's peer address and hands the
 * result to the gateway as the `clientAddress` env field; the gateway never asks a runtime.
 */
import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Networks whose X-Forwarded-For is believed, parsed once at start. */
export type TrustedProxies = readonly (readonly [Address, number])[];

/** What an entry passes as the Hono env: null when the runtime could tell nothing. */
export interface ClientEnv {
  clientAddress: string | null;
  /**
   * Whether the client reached the service over TLS, as a trusted proxy in front says
   * (X-Forwarded-Proto); absent when no trusted proxy said: the request's own URL tells.
   */
  clientTls?: boolean;
}

/** IPv4-mapped IPv6 (a dual-stack socket's `::ffff:192.0.2.7`) as the IPv4 address it is. */
function parseAddress(s: string): Address | null {
  // Strict forms only: ipaddr.parse would also take "127.1" or "0x7f.0.0.1".
  if (!ipaddr.IPv4.isValidFourPartDecimal(s) && !ipaddr.IPv6.isValid(s)) return null;
  const addr = ipaddr.parse(s);
  return addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress() ? (addr as ipaddr.IPv6).toIPv4Address() : addr;
}

/**
 * "10.0.0.0/8, 2001:db8::/32, 192.0.2.7" → the networks (a bare address is one host);
 * the first entry that is not one comes back as `bad`.
 */
export function parseTrustedProxies(list: string): { ok: true; proxies: TrustedProxies } | { ok: false; bad: string } {
  const proxies: (readonly [Address, number])[] = [];
  for (const item of list.split(",").map((x) => x.trim()).filter((x) => x.length > 0)) {
    const [host, bits, extra] = item.split("/");
    const addr = parseAddress(host ?? "");
    const max = addr?.kind() === "ipv4" ? 32 : 128;
    const width = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!addr || extra !== undefined || !(width >= 0 && width <= max)) return { ok: false, bad: item };
    proxies.push([addr, width]);
  }
  return { ok: true, proxies };
}

const trusted = (addr: Address, proxies: TrustedProxies) => proxies.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));

/** One X-Forwarded-For element: an address, as some proxies write it with a port too. */
function forwardedElement(s: string): Address | null {
  const t = s.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(t);
  if (bracketed) return parseAddress(bracketed[1]!);
  const v4port = /^([\d.]+):\d+$/.exec(t);
  return parseAddress(v4port ? v4port[1]! : t);
}

/**
 * The client's address. A peer outside the trusted networks is the client, whatever its
 * X-Forwarded-For says (anyone can write that header). A trusted peer appended the address
 * that connected to it as the right-most element, so the list is read from the right, past
 * every trusted proxy, to the first address that is not one: elements further left were
 * written by whoever that was, and are not believed. When every hop is trusted (or no
 * header came), the furthest one is the client. An element that is not an address breaks
 * the chain where nothing can be known: null.
 */
export function resolveClientAddress(peer: string | null | undefined, forwardedFor: string | null | undefined, proxies: TrustedProxies): string | null {
  let client = peer ? parseAddress(peer) : null;
  if (!client) return null;
  if (forwardedFor) {
    const hops = forwardedFor.split(",").reverse();
    for (const hop of hops) {
      if (!trusted(client, proxies)) break;
      const next = forwardedElement(hop);
      if (!next) return null;
      client = next;
    }
  }
  return client.toString();
}

/** The env an entry passes to the gateway for `request`, which came from `peer`. */
export function clientEnv(request: Request, peer: string | null | undefined, proxies: TrustedProxies): ClientEnv {
  const env: ClientEnv = { clientAddress: resolveClientAddress(peer, request.headers.get("x-forwarded-for"), proxies) };
  const tls = forwardedTls(peer, request.headers.get("x-forwarded-proto"), proxies);
  if (tls !== null) env.clientTls = tls;
  return env;
}

/**
 * X-Forwarded-Proto from a trusted peer: its right-most element, the one that peer wrote
 * for the connection it took (elements further left came from hops before it). From any
 * other peer, or without the header: null.
 */
export function forwardedTls(peer: string | null | undefined, forwardedProto: string | null | undefined, proxies: TrustedProxies): boolean | null {
  const from = peer ? parseAddress(peer) : null;
  if (!from || !forwardedProto || !trusted(from, proxies)) return null;
  const proto = forwardedProto.split(",").at(-1)!.trim().toLowerCase();
  return proto === "https" ? true : proto === "http" ? false : null;
}
