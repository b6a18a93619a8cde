/**
 * Where a webhook may go: https only, and never to loopback, private, link-local or other
 * non-public addresses (no SSRF into the relay's own network), unless
 * SMARTHOST_ALLOW_PRIVATE_WEBHOOKS (tests). Checked when an endpoint is saved and again,
 * with a fresh DNS answer, before each attempt; the attempt then connects to an address
 * from that answer and no other (sender.ts), so a second answer cannot rebind the name.
 */
import ipaddr from "ipaddr.js";
import { Failure } from "../core/failure.ts";

/** The setting that lets webhooks reach loopback and private addresses (tests only): named in the errors it would fix. */
export const ALLOW_PRIVATE_WEBHOOKS = "SMARTHOST_ALLOW_PRIVATE_WEBHOOKS";

/** Resolves a host name to its addresses (A and AAAA); absent where the runtime cannot (Workers). */
export type ResolveHost = (host: string) => Promise<string[]>;


const bareHost = (u: URL) => u.hostname.replace(/^\[|\]$/g, "");

// RFC 4291 §2.4, RFC 3587: global unicast is allocated from 2000::/3 only. Everything else
// (::/8 with the deprecated IPv4-compatible ::a.b.c.d of RFC 4291 §2.5.5.1, fc00::/7,
// fe80::/10, ff00::/8, 100::/64, …) is not a place a webhook lives.
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3");
// Prefixes that carry an IPv4 address inside: judged by that address. RFC 4291 §2.5.5.2
// (::ffff:a.b.c.d) and RFC 6052 §2.1 (64:ff9b::a.b.c.d) hold it in the last 32 bits,
// RFC 3056 §2 (2002:aabb:ccdd::/48, 6to4) in bits 16–47.
const MAPPED_V6 = ipaddr.parseCIDR("::ffff:0:0/96");
const NAT64_V6 = ipaddr.parseCIDR("64:ff9b::/96");
const SIX_TO_FOUR_V6 = ipaddr.parseCIDR("2002::/16");

function embeddedIPv4(a: ipaddr.IPv6): ipaddr.IPv4 | null {
  const p = a.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  if (a.match(MAPPED_V6) || a.match(NAT64_V6)) return v4(p[6]!, p[7]!);
  if (a.match(SIX_TO_FOUR_V6)) return v4(p[1]!, p[2]!);
  return null;
}

/** Whether an address is public unicast, looking through IPv6 spellings of an IPv4 address. */
export function isPublicDestination(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  const addr = ipaddr.parse(ip);
  if (addr.kind() === "ipv4") return addr.range() === "unicast";
  const v6 = addr as ipaddr.IPv6;
  const inner = embeddedIPv4(v6);
  if (inner) return inner.range() === "unicast";
  return v6.match(GLOBAL_UNICAST_V6) && v6.range() === "unicast";
}

/** The URL in its normalized form, or a Failure (invalid, invalid_webhook) saying why it is refused. */
export function checkWebhookUrl(input: string, allowPrivate: boolean): string {
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw new Failure("invalid", "not a URL", { code: "invalid_webhook" });
  }
  if (u.protocol !== "https:" && !(allowPrivate && u.protocol === "http:")) {
    const tests = u.protocol === "http:" ? ` (http:// only with ${ALLOW_PRIVATE_WEBHOOKS}=true, for tests)` : "";
    throw new Failure("invalid", `the URL must be https://${tests}`, { code: "invalid_webhook" });
  }
  if (u.username || u.password) throw new Failure("invalid", "the URL must not hold credentials (the signature authenticates)", { code: "invalid_webhook" });
  if (u.hash) throw new Failure("invalid", "the URL must not have a #fragment", { code: "invalid_webhook" });
  // "localhost." is "localhost": a trailing dot only makes the name absolute.
  const host = bareHost(u).replace(/\.+$/, "");
  if (!allowPrivate && (host === "localhost" || host.endsWith(".localhost") || (ipaddr.isValid(host) && !isPublicDestination(host)))) {
    throw new Failure("invalid", `the URL points to a loopback or private address (allowed only with ${ALLOW_PRIVATE_WEBHOOKS}=true, for tests)`, { code: "invalid_webhook", reason: "private_destination" });
  }
  return u.toString();
}

/**
 * Where an attempt may connect: the addresses checked now (null where the runtime resolves
 * the name itself, on Workers), or why it may not. The problem is shown to the tenant, so it
 * never names what the host resolved to; `refused` is for the operator's log.
 */
export type Destination = { addresses: string[] | null } | { problem: string; refused: string[] };

export async function checkDestination(url: string, allowPrivate: boolean, resolve: ResolveHost | undefined): Promise<Destination> {
  const host = bareHost(new URL(url));
  if (ipaddr.isValid(host)) return allowPrivate || isPublicDestination(host) ? { addresses: [host] } : { problem: `${host} is not a public address; refused`, refused: [host] };
  if (!resolve) return { addresses: null };
  const addresses = await resolve(host).catch(() => null);
  if (addresses === null || addresses.length === 0) return { problem: `cannot resolve ${host}`, refused: [] };
  if (allowPrivate) return { addresses };
  const refused = addresses.filter((a) => !isPublicDestination(a));
  return refused.length > 0 ? { problem: `${host} resolves to a non-public address; refused`, refused } : { addresses };
}
