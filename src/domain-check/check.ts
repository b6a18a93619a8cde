/**
 * `smarthost domain check DOMAIN` and `GET /v1/domains/{domain}`: what a sender domain
 * publishes (SPF, DKIM, DMARC, MTA-STS, TLS-RPT) against what this relay needs, each
 * with ✓/✗ and the exact record still to publish.
 */
import { asc, inArray } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { isDomain } from "../smtp/address.ts";
import { routes } from "../db/schema.ts";
import { dkimKeys } from "../db/schema-deliverability.ts";
import { dkimRecordName, dkimRecordValue, dkimZoneLine } from "../dkim/keys.ts";
import { lookupPublishedKey, signingCandidates } from "../dkim/store.ts";
import { txtLookup, type DnsResolve } from "./dns.ts";
import { checkDmarc, checkMtaSts, checkSpf, checkTlsRpt, type Check, type PolicyFetch } from "./records.ts";
import { Failure } from "../core/failure.ts";
import { checkDane, type DaneProbe } from "./dane.ts";
import { checkReturnPath } from "./return-path.ts";
import { checkBulk } from "./bulk.ts";

export interface DomainCheckDeps {
  db: Db;
  resolve: DnsResolve;
  fetchPolicy: PolicyFetch;
  /** SMARTHOST_SENDING_IPS: where MX delivery leaves from. */
  sendingIps: string[];
  /** DANE lookups through the validating resolver (SMARTHOST_DANE=on); absent: not looked at. */
  dane?: DaneProbe;
  /** The name a return-path domain's MX must point at (the relay's hostname); absent: any MX will do. */
  inboundHost?: string;
}

export interface DomainReport {
  domain: string;
  ok: boolean;
  checks: (Check & { selector?: string })[];
}

/** Each stored selector (of the domain, else of the parent that signs for it) against its DNS record. */
async function checkDkim(deps: DomainCheckDeps, domain: string): Promise<(Check & { selector?: string })[]> {
  const candidates = signingCandidates(domain);
  const rows = await deps.db.select().from(dkimKeys).where(inArray(dkimKeys.domain, candidates)).orderBy(asc(dkimKeys.selector));
  const signing = candidates.find((d) => rows.some((r) => r.domain === d && r.state !== "retired"));
  if (!signing) return [{ check: "dkim", ok: false, found: null, detail: `no DKIM key: run smarthost dkim add ${domain}` }];
  const lookup = txtLookup(deps.resolve);
  const out: (Check & { selector?: string })[] = [];
  for (const r of rows.filter((x) => x.domain === signing && x.state !== "retired")) {
    const name = dkimRecordName(r.domain, r.selector);
    const seen = await lookupPublishedKey(lookup, name);
    const publish = dkimZoneLine(r.domain, r.selector, r.algorithm, r.publicKey);
    const base = { check: "dkim" as const, selector: r.selector };
    if ("missing" in seen) out.push({ ...base, ok: false, found: null, detail: `${r.state}: ${seen.missing} at ${name}`, publish });
    else if (seen.publicKey !== r.publicKey) out.push({ ...base, ok: false, found: dkimRecordValue(seen.algorithm === "ed25519" ? "ed25519" : "rsa", seen.publicKey), detail: `${r.state}: the published key is not the stored one`, publish });
    else out.push({ ...base, ok: true, found: dkimRecordValue(r.algorithm, r.publicKey), detail: `${r.state}${r.domain === domain ? "" : ` (signs for ${domain} as ${r.domain})`}: published key matches` });
  }
  return out;
}

export async function checkDomain(deps: DomainCheckDeps, domainArg: string): Promise<DomainReport> {
  const domain = domainArg.toLowerCase().replace(/\.$/, "");
  const relayHosts = (await deps.db.select({ url: routes.url }).from(routes))
    .map((r) => (r.url === "mx" ? null : new URL(r.url).hostname))
    .filter((h): h is string => h !== null && !/^[0-9.]+$|^\[|^localhost$/.test(h));
  const [spf, dkim, dmarc, mtaSts, tlsRpt, dane] = await Promise.all([
    checkSpf(deps.resolve, domain, { sendingIps: deps.sendingIps, relayHosts }),
    checkDkim(deps, domain),
    checkDmarc(deps.resolve, domain),
    checkMtaSts(deps.resolve, deps.fetchPolicy, domain),
    checkTlsRpt(deps.resolve, domain),
    // Only where delivery does DANE (SMARTHOST_DANE=on): otherwise there is nothing to show.
    deps.dane ? checkDane(deps.resolve, deps.dane, domain) : null,
  ]);
  const returnPath = await checkReturnPath(deps.resolve, deps.db.$client, domain, deps.inboundHost);
  const bulk = await checkBulk(deps.db.$client, domain, Date.now());
  const checks = [spf, ...dkim, dmarc, mtaSts, tlsRpt, ...(dane ? [dane] : []), ...(returnPath ? [returnPath] : []), ...(bulk ? [bulk] : [])];
  return { domain, ok: checks.every((c) => c.ok), checks };
}

/** The operator's check of any domain (`domain check` and the admin API): the name checked first. */
export async function checkNamedDomain(deps: DomainCheckDeps, arg: string): Promise<DomainReport> {
  const domain = arg.toLowerCase();
  if (!isDomain(domain.replace(/\.$/, ""), false)) throw new Failure("invalid", `"${arg}" is not a domain name`);
  return checkDomain(deps, domain);
}

const LABEL: Record<Check["check"], string> = { spf: "SPF", dkim: "DKIM", dmarc: "DMARC", "mta-sts": "MTA-STS", "tls-rpt": "TLS-RPT", dane: "DANE", "return-path": "Return-Path", bulk: "Bulk mail" };

/** The report as `domain check` prints it. */
export function formatReport(r: DomainReport): string {
  const lines = [`${r.domain}: ${r.ok ? "everything published" : "records to publish below"}`];
  for (const c of r.checks) {
    lines.push(`${c.ok ? "✓" : "✗"} ${LABEL[c.check]}${c.selector ? ` ${c.selector}` : ""}: ${c.detail}`);
    if (c.found) lines.push(`    found:   ${c.found}`);
    if (!c.ok && c.publish) lines.push(...c.publish.split("\n").map((l, i) => (i === 0 ? `    publish: ${l}` : `             ${l}`)));
  }
  return lines.join("\n");
}

// RFC 8461 §3.3: no redirects, a short timeout, and a bounded body (64 KB here).
const POLICY_MAX_BYTES = 64 * 1024;
const POLICY_TIMEOUT_MS = 10_000;

/** The policy fetch on `fetch` (every runtime): HTTPS only, no redirects, 64 KB, 10 s. */
export const fetchPolicyText: PolicyFetch = async (url) => {
  const res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(POLICY_TIMEOUT_MS) });
  if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${url}`);
  if (!/^text\/plain\b/i.test(res.headers.get("content-type") ?? "")) throw new Error("the policy is not served as text/plain");
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader!.read()) {
    size += chunk.value.byteLength;
    if (size > POLICY_MAX_BYTES) {
      await reader!.cancel();
      throw new Error("the policy is larger than 64 KB");
    }
    text += decoder.decode(chunk.value, { stream: true });
  }
  return text + decoder.decode();
};
