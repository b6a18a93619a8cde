/**
 * DANE (RFC 7672) as `domain check` shows it for a domain we send to: are its MX records
 * signed, and does each MX host publish usable TLSA records. The lookups need a validating
 * resolver (SMARTHOST_DANE=on with SMARTHOST_DNS_SERVERS); they come in as a probe, built by
 * the runtime from the delivery's own DANE lookup, so the check reads what delivery will.
 */
import type { Check } from "./records.ts";
import type { DnsResolve } from "./dns.ts";

export interface DaneHostView {
  name: string;
  /** none: insecure or no TLSA; tlsa: usable records; encrypt: secure but none usable; failed: bogus or unanswered. */
  kind: "none" | "tlsa" | "encrypt" | "failed";
  /** The usable records ("3 1 1 ab12…"), or why the lookup failed. */
  detail?: string;
}

export type DaneView = { state: "unsigned" } | { state: "failed"; reason: string } | { state: "secure"; hosts: DaneHostView[] };

export type DaneProbe = (domain: string, mxNames: string[]) => Promise<DaneView>;

async function mxNames(resolve: DnsResolve, domain: string): Promise<string[] | { failed: string }> {
  try {
    const rows = (await resolve(domain, "MX")) as { exchange: string; priority: number }[];
    return rows.sort((a, b) => a.priority - b.priority).map((r) => r.exchange.toLowerCase().replace(/\.$/, ""));
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (code === "ENOTFOUND" || code === "ENODATA") return [];
    return { failed: `MX lookup of ${domain} failed${code ? ` (${code})` : ""}` };
  }
}

const hostLine = (h: DaneHostView) => `${h.name}: ${h.kind === "tlsa" ? `TLSA ${h.detail ?? ""}`.trim() : h.kind === "encrypt" ? "TLSA with no usable record (encryption required)" : h.kind === "failed" ? `lookup failed${h.detail ? ` (${h.detail})` : ""}` : "no TLSA"}`;

/** The DANE check: informative (DANE is the receiving domain's choice), failing only where mail to it would be deferred. */
export async function checkDane(resolve: DnsResolve, probe: DaneProbe | undefined, domain: string): Promise<Check> {
  if (!probe) return { check: "dane", ok: true, found: null, detail: "not looked at: SMARTHOST_DANE is off (it needs a validating resolver in SMARTHOST_DNS_SERVERS)" };
  const names = await mxNames(resolve, domain);
  if ("failed" in names) return { check: "dane", ok: false, found: null, detail: names.failed };
  if (names.length === 0) return { check: "dane", ok: true, found: null, detail: "no MX records: DANE does not apply" };
  const view = await probe(domain, names);
  if (view.state === "unsigned") return { check: "dane", ok: true, found: null, detail: "the MX records are not signed (no DNSSEC): DANE does not apply; MTA-STS, then opportunistic TLS" };
  if (view.state === "failed") return { check: "dane", ok: false, found: null, detail: `DNSSEC validation failed: ${view.reason}; mail to ${domain} is deferred (dnssec-invalid)` };
  const found = view.hosts.map(hostLine).join(" | ");
  const failed = view.hosts.filter((h) => h.kind === "failed").length;
  const authenticated = view.hosts.filter((h) => h.kind === "tlsa").length;
  if (failed > 0) return { check: "dane", ok: false, found, detail: `${failed} of ${view.hosts.length} MX host(s) cannot be used: their TLSA lookup failed validation` };
  return { check: "dane", ok: true, found, detail: authenticated > 0 ? `${authenticated} of ${view.hosts.length} MX host(s) authenticated by TLSA` : "signed MX records, no TLSA: opportunistic TLS (or MTA-STS)" };
}
