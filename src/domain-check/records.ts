/**
 * One check per kind of record a sender domain publishes: SPF, DMARC, MTA-STS, TLS-RPT.
 * Each says ✓/✗, what was found, and the exact record to publish when something is wrong.
 */
import { spf } from "mailauth/lib/spf/index.js";
import { parsePolicy, validateMx } from "mailauth/lib/mta-sts.js";
import { quotedStrings } from "../dkim/keys.ts";
import { signingCandidates } from "../dkim/store.ts";
import { baseDomain, txtRecords, type DnsResolve } from "./dns.ts";

export interface Check {
  check: "spf" | "dkim" | "dmarc" | "mta-sts" | "tls-rpt" | "dane" | "bulk" | "return-path";
  ok: boolean;
  /** What is published now (the record), or null. */
  found: string | null;
  detail: string;
  /** The zone-file line to publish when `ok` is false. */
  publish?: string;
}

export interface SpfExpectations {
  /** Addresses the relay's MX delivery leaves from. */
  sendingIps: string[];
  /** Hosts of the provider relays it sends through. */
  relayHosts: string[];
}

const zone = (name: string, value: string) => `${name} IN TXT ${quotedStrings(value)}`;

export async function checkSpf(resolve: DnsResolve, domain: string, want: SpfExpectations): Promise<Check> {
  const txt = await txtRecords(resolve, domain);
  if ("failed" in txt) return { check: "spf", ok: false, found: null, detail: txt.failed };
  const records = txt.filter((r) => /^v=spf1(\s|$)/i.test(r));
  const mechanisms = [...want.sendingIps.map((ip) => (ip.includes(":") ? `ip6:${ip}` : `ip4:${ip}`)), ...[...new Set(want.relayHosts.map(baseDomain))].map((d) => `include:${d}`)];
  const suggest = (missing: string[], existing?: string) => {
    if (!existing) return zone(domain, `v=spf1 ${[...missing, "~all"].join(" ")}`);
    const all = /\s[-~?+]?all\s*$/i.exec(existing);
    return zone(domain, all ? `${existing.slice(0, all.index)} ${missing.join(" ")}${all[0]}` : `${existing} ${missing.join(" ")}`);
  };
  if (records.length === 0) return { check: "spf", ok: false, found: null, detail: "no SPF record", publish: suggest(mechanisms.length ? mechanisms : ["a", "mx"]) };
  // RFC 7208 §4.5: two records are a permanent error for every receiver.
  if (records.length > 1) return { check: "spf", ok: false, found: records.join(" | "), detail: "more than one SPF record (RFC 7208 §4.5: permerror); merge them into one" };
  const record = records[0]!;
  const missing: string[] = [];
  for (const ip of want.sendingIps) {
    const r = await spf({ ip, sender: `postmaster@${domain}`, helo: domain, mta: "smarthost", resolver: resolve as never }).catch(() => null);
    if (r?.status.result !== "pass") missing.push(ip.includes(":") ? `ip6:${ip}` : `ip4:${ip}`);
  }
  const includes = [...record.matchAll(/(?:include:|redirect=)([^\s]+)/gi)].map((m) => m[1]!.toLowerCase());
  for (const d of new Set(want.relayHosts.map(baseDomain))) {
    if (!includes.some((i) => i === d || i.endsWith(`.${d}`))) missing.push(`include:${d}`);
  }
  if (missing.length > 0) return { check: "spf", ok: false, found: record, detail: `does not authorize ${missing.join(", ")}`, publish: suggest(missing, record) };
  const covered = want.sendingIps.length + want.relayHosts.length === 0 ? "present (set SMARTHOST_SENDING_IPS to check that it covers this relay)" : "authorizes this relay's sending addresses and provider routes";
  return { check: "spf", ok: true, found: record, detail: covered };
}

/** RFC 7489 §6.6.3: the domain's record, else its organizational domain's (here: the nearest parent's). */
export async function checkDmarc(resolve: DnsResolve, domain: string): Promise<Check> {
  for (const d of signingCandidates(domain)) {
    const txt = await txtRecords(resolve, `_dmarc.${d}`);
    if ("failed" in txt) return { check: "dmarc", ok: false, found: null, detail: txt.failed };
    const records = txt.filter((r) => /^v=DMARC1\s*(;|$)/i.test(r));
    if (records.length === 0) continue;
    const where = d === domain ? "" : ` (inherited from ${d})`;
    if (records.length > 1) return { check: "dmarc", ok: false, found: records.join(" | "), detail: `more than one DMARC record${where}` };
    const p = /(?:^|;)\s*p\s*=\s*(none|quarantine|reject)\s*(;|$)/i.exec(records[0]!)?.[1]?.toLowerCase();
    if (!p) return { check: "dmarc", ok: false, found: records[0]!, detail: `no valid p= policy${where}`, publish: zone(`_dmarc.${d}`, "v=DMARC1; p=none; rua=mailto:dmarc-reports@" + d) };
    const meaning = p === "none" ? "receivers only report (p=none)" : `receivers ${p} mail that fails (p=${p})`;
    return { check: "dmarc", ok: true, found: records[0]!, detail: `${meaning}${where}` };
  }
  return { check: "dmarc", ok: false, found: null, detail: "no DMARC record", publish: zone(`_dmarc.${domain}`, `v=DMARC1; p=none; rua=mailto:dmarc-reports@${domain}`) };
}

/** Fetches `https://mta-sts.DOMAIN/.well-known/mta-sts.txt` (RFC 8461 §3.3). */
export type PolicyFetch = (url: string) => Promise<string>;

export async function checkMtaSts(resolve: DnsResolve, fetchPolicy: PolicyFetch, domain: string): Promise<Check> {
  const txt = await txtRecords(resolve, `_mta-sts.${domain}`);
  if ("failed" in txt) return { check: "mta-sts", ok: false, found: null, detail: txt.failed };
  const records = txt.filter((r) => /^v=STSv1\s*(;|$)/i.test(r));
  const mxHosts = await resolve(domain, "MX").then((mx) => (mx as { exchange: string }[]).map((m) => m.exchange.toLowerCase()), () => [] as string[]);
  const policyText = ["version: STSv1", "mode: testing", ...(mxHosts.length ? mxHosts : [`mx.${domain}`]).map((h) => `mx: ${h}`), "max_age: 604800"];
  const publish = [zone(`_mta-sts.${domain}`, `v=STSv1; id=${new Date().toISOString().slice(0, 10).replace(/-/g, "")}01`), `and serve at https://mta-sts.${domain}/.well-known/mta-sts.txt:`, ...policyText].join("\n");
  if (records.length === 0) return { check: "mta-sts", ok: false, found: null, detail: "no MTA-STS record: TLS to your MX is opportunistic only", publish };
  if (records.length > 1) return { check: "mta-sts", ok: false, found: records.join(" | "), detail: "more than one MTA-STS record (RFC 8461 §3.1: none applies)" };
  const record = records[0]!;
  if (!/(?:^|;)\s*id\s*=\s*[A-Za-z0-9]{1,32}\s*(;|$)/.test(record)) return { check: "mta-sts", ok: false, found: record, detail: "the record has no valid id= (1-32 letters or digits)", publish };
  let text: string;
  try {
    text = await fetchPolicy(`https://mta-sts.${domain}/.well-known/mta-sts.txt`);
  } catch (err) {
    return { check: "mta-sts", ok: false, found: record, detail: `policy not fetched: ${(err as Error).message}`, publish };
  }
  try {
    const policy = parsePolicy(text);
    const uncovered = policy.mode === "none" ? [] : mxHosts.filter((h) => !validateMx(h, policy).valid);
    if (uncovered.length > 0) return { check: "mta-sts", ok: false, found: record, detail: `policy (mode ${policy.mode}) does not list MX ${uncovered.join(", ")}`, publish };
    return { check: "mta-sts", ok: true, found: record, detail: `policy mode ${policy.mode}, max_age ${policy.maxAge}, mx ${(policy.mx ?? []).join(", ")}` };
  } catch (err) {
    return { check: "mta-sts", ok: false, found: record, detail: `policy does not parse: ${(err as Error).message}`, publish };
  }
}

export async function checkTlsRpt(resolve: DnsResolve, domain: string): Promise<Check> {
  const name = `_smtp._tls.${domain}`;
  const publish = zone(name, `v=TLSRPTv1; rua=mailto:tls-reports@${domain}`);
  const txt = await txtRecords(resolve, name);
  if ("failed" in txt) return { check: "tls-rpt", ok: false, found: null, detail: txt.failed };
  const records = txt.filter((r) => /^v=TLSRPTv1\s*(;|$)/i.test(r));
  if (records.length === 0) return { check: "tls-rpt", ok: false, found: null, detail: "no TLS-RPT record: nobody reports TLS failures to you", publish };
  // RFC 8460 §3: rua= is required, a list of mailto: or https: URIs.
  if (records.length > 1 || !/(?:^|;)\s*rua\s*=\s*(mailto:|https:)/i.test(records[0]!)) return { check: "tls-rpt", ok: false, found: records.join(" | "), detail: "needs exactly one record with rua=mailto:… or https:…", publish };
  return { check: "tls-rpt", ok: true, found: records[0]!, detail: "reports requested" };
}
