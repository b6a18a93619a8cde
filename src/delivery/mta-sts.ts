/**
 * MTA-STS (RFC 8461) for direct MX delivery: which policy applies to a recipient domain,
 * and what it demands of the MX hosts. The policy rules (parsing, MX patterns) are
 * mailauth's; the lookup, the cache in libSQL and the fallback to it are here.
 */
import { eq } from "drizzle-orm";
import { parsePolicy } from "mailauth/lib/mta-sts.js";
import type { Db } from "../db/client.ts";
import { mtaStsPolicies } from "../db/schema-deliverability.ts";
import { txtRecords, type DnsResolve } from "../domain-check/dns.ts";
import type { PolicyFetch } from "../domain-check/records.ts";
import { CachedMap } from "../util/cached.ts";
import type { ResultType, TlsRecord } from "../core/tls-record.ts";
import { certificateResultType, type TlsDemand } from "./tls-outcome.ts";

export interface StsPolicy {
  domain: string;
  policyId: string;
  mode: "enforce" | "testing" | "none";
  mx: string[];
  expiresAt: number;
  /**
   * The last fetch of a new policy failed (RFC 8460 §4.3.2.2): what applies is the cached
   * policy, or none (mode "none") when there is no valid one.
   */
  fetchFailure?: ResultType;
}

export interface MtaStsDeps {
  db: Db;
  resolve: DnsResolve;
  fetchPolicy: PolicyFetch;
  now?: () => number;
}

export interface MtaSts {
  /** The policy in force for a recipient domain, or null when it has none. */
  policyFor(domain: string): Promise<StsPolicy | null>;
}

// How long a domain's policy is reused before its TXT record is looked at again.
const RECHECK_MS = 5 * 60_000;

type Lookup = { id: string } | { none: true } | { failed: true };

/** RFC 8461 §3.1: exactly one `v=STSv1` record with an id of 1-32 letters and digits. */
async function policyId(resolve: DnsResolve, domain: string): Promise<Lookup> {
  const txt = await txtRecords(resolve, `_mta-sts.${domain}`);
  if ("failed" in txt) return { failed: true };
  const records = txt.filter((r) => /^v=STSv1\s*(;|$)/.test(r));
  const id = records.length === 1 ? /(?:^|;)\s*id\s*=\s*([A-Za-z0-9]{1,32})\s*(;|$)/.exec(records[0]!)?.[1] : undefined;
  return id ? { id } : { none: true };
}

const failed = (domain: string, policyId: string, stored: StsPolicy | null, fetchFailure: ResultType): StsPolicy =>
  stored ? { ...stored, fetchFailure } : { domain, policyId, mode: "none", mx: [], expiresAt: 0, fetchFailure };

export function createMtaSts(deps: MtaStsDeps): MtaSts {
  const now = deps.now ?? Date.now;

  const cached = async (domain: string): Promise<StsPolicy | null> => {
    const [row] = await deps.db.select().from(mtaStsPolicies).where(eq(mtaStsPolicies.domain, domain));
    if (!row || row.expiresAt <= now()) return null;
    return { domain, policyId: row.policyId, mode: row.mode, mx: JSON.parse(row.mx) as string[], expiresAt: row.expiresAt };
  };

  const current = async (domain: string): Promise<StsPolicy | null> => {
    const stored = await cached(domain);
    const found = await policyId(deps.resolve, domain);
    // No record, or DNS failing: a policy still within its max_age keeps applying (§5.1),
    // otherwise an attacker who blocks the TXT lookup would turn TLS off.
    if (!("id" in found)) return stored;
    if (stored && stored.policyId === found.id) return stored;
    let text: string;
    try {
      text = await deps.fetchPolicy(`https://mta-sts.${domain}/.well-known/mta-sts.txt`);
    } catch (err) {
      // RFC 8461 §5.1: when a new policy cannot be fetched, a valid cached one applies.
      const fetchFailure = certificateResultType(err) === "validation-failure" ? "sts-policy-fetch-error" : "sts-webpki-invalid";
      return failed(domain, found.id, stored, fetchFailure);
    }
    let policy: ReturnType<typeof parsePolicy>;
    try {
      policy = parsePolicy(text);
    } catch {
      return failed(domain, found.id, stored, "sts-policy-invalid");
    }
    try {
      const t = now();
      const fresh: StsPolicy = { domain, policyId: found.id, mode: policy.mode, mx: policy.mx ?? [], expiresAt: t + (policy.maxAge ?? 0) * 1000 };
      const values = { policyId: fresh.policyId, mode: fresh.mode, mx: JSON.stringify(fresh.mx), fetchedAt: t, expiresAt: fresh.expiresAt };
      await deps.db.insert(mtaStsPolicies).values({ domain, ...values }).onConflictDoUpdate({ target: mtaStsPolicies.domain, set: values });
      return fresh;
    } catch {
      return stored;
    }
  };

  const memo = new CachedMap(RECHECK_MS, current);
  return { policyFor: (domain) => memo.get(domain.toLowerCase(), now()) };
}

export interface MxHost {
  name: string;
  address: string;
}

export type MxPlan =
  /** `unlisted`: in testing mode, a host the policy does not name (what enforce would refuse). */
  | { hosts: (MxHost & { enforce: boolean; unlisted?: boolean })[]; notes: string[] }
  /** Nothing may be tried: defer with this reason (4.7.5). */
  | { refused: string };

/**
 * What a policy makes of a domain's MX hosts (RFC 8461 §4, §5): with `enforce`, only the
 * hosts its patterns match, each with STARTTLS required and its certificate verified
 * against the MX name; with `testing`, every host as before and a note of what would fail.
 */
/**
 * RFC 8461 §4.1: a policy's `mx` is a host name, or `*.` and a domain standing for exactly
 * one more label — `*.example.com` covers `mx1.example.com`, not `a.b.example.com` nor
 * `example.com` (mailauth's validateMx lets any depth through, so it is not used here).
 */
export function mxMatches(host: string, pattern: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  const p = pattern.toLowerCase().replace(/\.$/, "");
  if (!p.startsWith("*.")) return h === p;
  const dot = h.indexOf(".");
  return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

export function mxUnderPolicy(policy: StsPolicy | null, hosts: MxHost[]): MxPlan {
  if (!policy || policy.mode === "none") return { hosts: hosts.map((h) => ({ ...h, enforce: false })), notes: [] };
  const matching = hosts.filter((h) => policy.mx.some((p) => mxMatches(h.name, p)));
  const outside = hosts.filter((h) => !matching.includes(h)).map((h) => h.name);
  if (policy.mode === "testing") {
    const notes = outside.length > 0 ? [`MTA-STS testing: ${[...new Set(outside)].join(", ")} not in the policy of ${policy.domain}`] : [];
    return { hosts: hosts.map((h) => ({ ...h, enforce: false, unlisted: !matching.includes(h) })), notes };
  }
  if (matching.length === 0) return { refused: `MTA-STS policy of ${policy.domain} (enforce) allows none of its MX hosts (${[...new Set(outside)].join(", ")})` };
  return { hosts: matching.map((h) => ({ ...h, enforce: true })), notes: [] };
}

/** What a domain's policy demands of TLS, for the attempts' records (tls-outcome.ts). */
export function stsDemand(policy: StsPolicy | null, host?: { unlisted?: boolean }): TlsDemand {
  const mode = policy && policy.mode !== "none" ? policy.mode : null;
  // A host outside a testing policy is a validation failure a report must show (RFC 8460 §4.3.1).
  const failure = policy?.fetchFailure ?? (host?.unlisted ? "validation-failure" : undefined);
  return { policy: mode, required: mode === "enforce", ...(failure ? { policyFailure: failure } : {}) };
}

/** The record of an attempt refused because no MX host matches an enforced policy: a validation failure (RFC 8460 §4.3.1). */
export const unmatchedTls = (d: TlsDemand): TlsRecord => ({ outcome: "none", protocol: null, cipher: null, result_type: "validation-failure", policy: d.policy });
