/**
 * Where mail for a domain goes when routed by MX (RFC 5321 §5.1): MX records by
 * preference (ties shuffled), the domain's own A/AAAA when it has no MX, null MX
 * (RFC 7505) a permanent failure, and only public addresses unless allowed.
 */
import { literalAddress } from "../smtp/address.ts";
import { isPublicAddress } from "./address-guard.ts";
import { errorText } from "../core/log.ts";

export interface Resolver {
  resolveMx(domain: string): Promise<{ exchange: string; priority: number }[]>;
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
}

export interface MxHost {
  /** The MX name (for the certificate and the DSN's Remote-MTA). */
  name: string;
  address: string;
}

export type MxLookup =
  | { ok: true; hosts: MxHost[] }
  | { ok: false; outcome: "transient" | "permanent"; enhanced: string; reason: string };

// Resolver errors that mean "no such data", as opposed to a failure to find out.
const NO_DATA = new Set(["ENODATA", "ENOTFOUND", "NXDOMAIN", "ENONAME"]);
const code = (err: unknown) => (err as { code?: string }).code ?? "";

async function addressesOf(resolver: Resolver, host: string): Promise<string[] | "nodata"> {
  const results = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const found = results.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
  if (found.length > 0) return found;
  const failure = results.find((r) => r.status === "rejected" && !NO_DATA.has(code(r.reason)));
  if (failure && failure.status === "rejected") throw failure.reason;
  return "nodata";
}

function shuffleTies<T extends { priority: number }>(records: T[]): T[] {
  return records
    .map((r) => ({ r, k: Math.random() }))
    .sort((a, b) => a.r.priority - b.r.priority || a.k - b.k)
    .map((x) => x.r);
}

export async function mxHostsFor(domain: string, resolver: Resolver, allowPrivate: boolean): Promise<MxLookup> {
  const temp = (reason: string): MxLookup => ({ ok: false, outcome: "transient", enhanced: "4.4.3", reason });
  // An address literal goes to that address, through the same guard as MX addresses.
  const literal = literalAddress(domain);
  let candidates: { name: string; addresses: string[] }[] = [];
  try {
    if (literal) {
      candidates = [{ name: literal, addresses: [literal] }];
    } else {
      let records: { exchange: string; priority: number }[] = [];
      try {
        records = await resolver.resolveMx(domain);
      } catch (err) {
        if (!NO_DATA.has(code(err))) return temp(`MX lookup for ${domain} failed: ${errorText(err)}`);
      }
      const nullMx = records.length === 1 && (records[0]!.exchange === "" || records[0]!.exchange === ".");
      if (nullMx) return { ok: false, outcome: "permanent", enhanced: "5.1.10", reason: `${domain} accepts no mail (null MX, RFC 7505)` };
      if (records.length === 0) {
        // RFC 5321 §5.1: no MX records — the domain itself is the implicit MX.
        const own = await addressesOf(resolver, domain);
        if (own === "nodata") return { ok: false, outcome: "permanent", enhanced: "5.1.2", reason: `${domain} has no MX and no address records` };
        candidates = [{ name: domain, addresses: own }];
      } else {
        for (const r of shuffleTies(records)) {
          const addrs = await addressesOf(resolver, r.exchange).catch(() => [] as string[]);
          candidates.push({ name: r.exchange, addresses: addrs === "nodata" ? [] : addrs });
        }
      }
    }
  } catch (err) {
    return temp(`address lookup for ${domain} failed: ${errorText(err)}`);
  }
  const all = candidates.flatMap((c) => c.addresses.map((address) => ({ name: c.name, address })));
  const hosts = allowPrivate ? all : all.filter((h) => isPublicAddress(h.address));
  if (hosts.length > 0) return { ok: true, hosts };
  if (all.length > 0) {
    return { ok: false, outcome: "permanent", enhanced: "5.4.4", reason: `MX for ${domain} resolves only to non-public addresses (${all.map((h) => h.address).join(", ")}); refused` };
  }
  return temp(`no address found for the MX hosts of ${domain}`);
}
