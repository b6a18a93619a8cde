/**
 * What DANE (RFC 7672) makes of a domain's MX hosts, before MTA-STS is asked: DANE takes
 * precedence where the domain has it (RFC 8461 §2). Null when DANE does not apply — the
 * MX RRset is unsigned, or no host has a secure TLSA RRset — and MTA-STS, then
 * opportunistic TLS, decide as before.
 */
import { upstreamReplies } from "../core/reply.ts";
import type { TlsRecord } from "../core/tls-record.ts";
import type { DaneLookup, DomainDane, HostDane } from "./dane-lookup.ts";
import { stored, type Attempt } from "./decide.ts";
import type { MxHost, MxLookup } from "./mx.ts";
import type { SmtpTarget } from "./smtp-client.ts";
import type { TlsDemand } from "./tls-outcome.ts";

export type DaneTarget = SmtpTarget & { sts: TlsDemand };

export type DanePlan =
  | null
  | { hosts: (MxHost & { dane: HostDane })[] }
  /** Nothing may be tried: every host's (or the MX's) lookup failed validation. */
  | { refused: string };

/** RFC 7672 §2.2: hosts whose TLSA lookup failed are not used; when none is left, defer. */
export function planDane(hosts: MxHost[], dane: DomainDane): DanePlan {
  if ("failed" in dane) return { refused: `DNSSEC validation of the MX records failed (${dane.failed})` };
  if (!dane.secure) return null;
  const planned = hosts.map((h) => ({ ...h, dane: dane.hosts.get(h.name.toLowerCase().replace(/\.$/, "")) ?? ({ kind: "none" } as HostDane) }));
  if (planned.every((h) => h.dane.kind === "none")) return null;
  const usable = planned.filter((h) => h.dane.kind !== "failed");
  if (usable.length === 0) {
    const reasons = [...new Set(planned.map((h) => (h.dane.kind === "failed" ? h.dane.reason : "")))].join("; ");
    return { refused: `no MX host's TLSA records could be validated (${reasons})` };
  }
  return { hosts: usable };
}

const DANE_DEMAND: TlsDemand = { policy: "tlsa", required: true };

/** The SMTP target for one host under DANE. */
export function daneTarget(h: MxHost & { dane: HostDane }, port: number): DaneTarget {
  const base = { hostname: h.address, tlsName: h.name, port, relay: false, verifyTls: false } as const;
  // Usable records: verified by them, not by WebPKI (the certificate check is ours, smtp-client.ts).
  if (h.dane.kind === "tlsa") return { ...base, tls: "starttls-required", dane: { records: h.dane.records, names: [h.name.replace(/\.$/, "")] }, sts: DANE_DEMAND };
  // RFC 7672 §2.2: a secure TLSA RRset with no usable record still says the server does TLS.
  if (h.dane.kind === "encrypt") return { ...base, tls: "starttls-required", sts: DANE_DEMAND };
  return { ...base, tls: "starttls-opportunistic", sts: { policy: null, required: false } };
}

const refusedTls: TlsRecord = { outcome: "none", protocol: null, cipher: null, result_type: "dnssec-invalid", policy: "tlsa" };

/**
 * The targets DANE gives a domain, the deferral when its DNSSEC fails, or null when DANE
 * does not apply. A failed MX lookup is asked about too: when it is a validation failure,
 * the deferral says so (dnssec-invalid) rather than a plain lookup failure.
 */
export async function daneTargets(dane: DaneLookup, domain: string, lookup: MxLookup, port: number): Promise<DaneTarget[] | Attempt | null> {
  if (!lookup.ok && lookup.outcome === "permanent") return null;
  const found = await dane.forDomain(domain, lookup.ok ? lookup.hosts.map((h) => h.name) : []);
  if (!lookup.ok && !("failed" in found)) return null;
  const plan = planDane(lookup.ok ? lookup.hosts : [], found);
  if (!plan) return null;
  if ("refused" in plan) return { outcome: "transient", reply: stored(upstreamReplies.tlsFailed(`DANE for ${domain} (dnssec-invalid): ${plan.refused}`)), via: `mx ${domain}`, remoteMta: null, tls: refusedTls };
  return plan.hosts.map((h) => daneTarget(h, port));
}
