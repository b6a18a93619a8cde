/**
 * The RFC 8460 §4 aggregate report for one recipient domain and one UTC day, built from
 * what the delivery attempts recorded (rows in, JSON out; no I/O). Every attempt with a
 * TLS record is one session with one of the domain's MX hosts; recipients that shared a
 * session were counted once by the reader (src/tlsrpt/sessions.ts).
 */
import type { TlsRecord } from "../core/tls-record.ts";

/** Sessions of one day that had the same MX host, address and TLS record. */
export interface SessionGroup {
  /** The MX host name tried (receiving-mx-hostname), when one was reached. */
  mxHost: string | null;
  /** Its address (receiving-ip). */
  receivingIp: string | null;
  tls: TlsRecord;
  sessions: number;
}

/** The MTA-STS policy the domain had, as cached (for policy-string and mx-host). */
export interface StsPolicyText {
  mode: "enforce" | "testing" | "none";
  mx: string[];
  maxAgeSeconds: number;
}

export interface ReportInput {
  domain: string;
  /** YYYY-MM-DD (UTC). */
  day: string;
  /** organization-name: SMARTHOST_TLSRPT_ORG. */
  organization: string;
  /** contact-info: SMARTHOST_TLSRPT_CONTACT. */
  contact: string;
  /** The reporting host (the relay's name): in the report-id. */
  submitter: string;
  /** SMARTHOST_SENDING_IPS: where MX delivery leaves from (sending-mta-ip). */
  sendingIps: readonly string[];
  groups: readonly SessionGroup[];
  sts: StsPolicyText | null;
}

export type PolicyType = "sts" | "tlsa" | "no-policy-found";

export interface FailureDetail {
  "result-type": string;
  "sending-mta-ip"?: string;
  "receiving-mx-hostname"?: string;
  "receiving-ip"?: string;
  "failed-session-count": number;
}

export interface PolicyReport {
  policy: { "policy-type": PolicyType; "policy-string"?: string[]; "policy-domain": string; "mx-host"?: string[] };
  summary: { "total-successful-session-count": number; "total-failure-session-count": number };
  "failure-details": FailureDetail[];
}

export interface TlsReport {
  "organization-name": string;
  "date-range": { "start-datetime": string; "end-datetime": string };
  "contact-info": string;
  "report-id": string;
  policies: PolicyReport[];
}

// RFC 8460 §4.3.2.1: the DANE failures are reported under the tlsa policy.
const TLSA_RESULTS = new Set(["tlsa-invalid", "dnssec-invalid", "dane-required"]);

/** The policy an attempt ran under (RFC 8460 §4.3 policy-type). */
export function policyTypeOf(tls: TlsRecord): PolicyType {
  if (tls.policy === "tlsa" || (tls.result_type && TLSA_RESULTS.has(tls.result_type))) return "tlsa";
  // A policy that could not be fetched or read is still the domain's MTA-STS (§4.3.2.2).
  if (tls.policy === "enforce" || tls.policy === "testing" || tls.result_type?.startsWith("sts-")) return "sts";
  return "no-policy-found";
}

/**
 * A session failed when TLS was not negotiated or did not meet what applied to it: the
 * recorded result type, or for a plaintext session the absence of STARTTLS (§4.3.1).
 */
export function failureOf(tls: TlsRecord): string | null {
  if (tls.result_type) return tls.result_type;
  return tls.outcome === "none" ? "starttls-not-supported" : null;
}

/** Stable for a domain and day, so a report printed again has the id it was sent with. */
export function reportIdFor(day: string, domain: string, submitter: string): string {
  return `${day.replace(/-/g, "")}.${domain}@${submitter}`;
}

/** RFC 8461 §3.2 policy text, one line per string (§4.3: policy-string). */
function stsPolicyString(p: StsPolicyText): string[] {
  return ["version: STSv1", `mode: ${p.mode}`, ...p.mx.map((m) => `mx: ${m}`), `max_age: ${p.maxAgeSeconds}`];
}

/** The sending address of the receiving address's family, when the operator named one. */
function sendingIpFor(receivingIp: string | null, sendingIps: readonly string[]): string | undefined {
  const v6 = receivingIp?.includes(":") ?? false;
  return sendingIps.find((ip) => ip.includes(":") === v6) ?? sendingIps[0];
}

export function buildReport(input: ReportInput): TlsReport {
  const byType = new Map<PolicyType, { ok: number; failed: number; details: Map<string, FailureDetail> }>();
  for (const g of input.groups) {
    const type = policyTypeOf(g.tls);
    let p = byType.get(type);
    if (!p) byType.set(type, (p = { ok: 0, failed: 0, details: new Map() }));
    const failure = failureOf(g.tls);
    if (failure === null) {
      p.ok += g.sessions;
      continue;
    }
    p.failed += g.sessions;
    const key = `${failure}\0${g.mxHost ?? ""}\0${g.receivingIp ?? ""}`;
    const d = p.details.get(key);
    if (d) d["failed-session-count"] += g.sessions;
    else {
      const sending = sendingIpFor(g.receivingIp, input.sendingIps);
      p.details.set(key, {
        "result-type": failure,
        ...(sending ? { "sending-mta-ip": sending } : {}),
        ...(g.mxHost ? { "receiving-mx-hostname": g.mxHost } : {}),
        ...(g.receivingIp ? { "receiving-ip": g.receivingIp } : {}),
        "failed-session-count": g.sessions,
      });
    }
  }
  const order: PolicyType[] = ["sts", "tlsa", "no-policy-found"];
  const policies = order.flatMap((type): PolicyReport[] => {
    const p = byType.get(type);
    if (!p) return [];
    const sts = type === "sts" && input.sts ? { "policy-string": stsPolicyString(input.sts), "mx-host": input.sts.mx } : {};
    const details = [...p.details.values()].sort((a, b) => a["result-type"].localeCompare(b["result-type"]) || (a["receiving-mx-hostname"] ?? "").localeCompare(b["receiving-mx-hostname"] ?? ""));
    return [
      {
        policy: { "policy-type": type, ...(sts["policy-string"] ? { "policy-string": sts["policy-string"] } : {}), "policy-domain": input.domain, ...(sts["mx-host"] ? { "mx-host": sts["mx-host"] } : {}) },
        summary: { "total-successful-session-count": p.ok, "total-failure-session-count": p.failed },
        "failure-details": details,
      },
    ];
  });
  return {
    "organization-name": input.organization,
    // RFC 8460 §4.4: RFC 3339 date-times; the day is whole, in UTC.
    "date-range": { "start-datetime": `${input.day}T00:00:00Z`, "end-datetime": `${input.day}T23:59:59Z` },
    "contact-info": input.contact,
    "report-id": reportIdFor(input.day, input.domain, input.submitter),
    policies,
  };
}

/** A UTC day as YYYY-MM-DD. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The day's bounds in ms: [start, end). */
export function dayBounds(day: string): { start: number; end: number } {
  const start = Date.parse(`${day}T00:00:00Z`);
  return { start, end: start + 86_400_000 };
}

/** The day before the one `now` falls in (the day a report is due for). */
export const previousDay = (now: number): string => dayOf(dayBounds(dayOf(now)).start - 1);
