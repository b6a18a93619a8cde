/**
 * The TLS outcome of one delivery attempt as it is stored (events.tls, recipients.last_tls)
 * and shown (GET /v1/messages/:id, `queue show`, the dashboard): the data a TLS report
 * (RFC 8460) is built from. A leaf of the house: the delivery client produces it, storage
 * keeps it, every reader decodes it here and nowhere else.
 */

/**
 * RFC 8460 §4.3.1 negotiation failures, §4.3.2.1 DANE policy failures and §4.3.2.2
 * MTA-STS policy failures.
 */
export const RESULT_TYPES = [
  "starttls-not-supported",
  "certificate-host-mismatch",
  "certificate-expired",
  "certificate-not-trusted",
  "validation-failure",
  "sts-policy-fetch-error",
  "sts-policy-invalid",
  "sts-webpki-invalid",
  "tlsa-invalid",
  "dnssec-invalid",
  "dane-required",
] as const;
export type ResultType = (typeof RESULT_TYPES)[number];

/**
 * `none`: plaintext; `opportunistic`: encrypted, the certificate not checked (or checked
 * and found wanting, where nothing demanded it); `verified`: the certificate checked
 * against the host name and trusted.
 */
export type TlsLevel = "none" | "opportunistic" | "verified";

const LEVELS: readonly string[] = ["none", "opportunistic", "verified"];
const POLICIES: readonly string[] = ["enforce", "testing", "tlsa"];

/**
 * The policy that applied to an attempt: an MTA-STS mode (RFC 8460 policy-type `sts`), or
 * `tlsa` when DNSSEC-validated TLSA records authenticated the host (RFC 7672, policy-type
 * `tlsa`); null when none did (`no-policy-found`).
 */
export type TlsPolicy = "enforce" | "testing" | "tlsa";

export interface TlsRecord {
  outcome: TlsLevel;
  protocol: string | null;
  cipher: string | null;
  /** RFC 8460 result type, set when TLS failed for a host a policy (or a route) required it of. */
  result_type: ResultType | null;
  /** The policy that applied to the attempt, when one did (TlsPolicy). */
  policy: TlsPolicy | null;
}

const text = (v: unknown): string | null => (typeof v === "string" ? v : null);

/**
 * A stored TLS record, checked field by field: the JSON text of the column, or the object
 * drizzle already parsed. Null when absent or not a record (an unknown level); unknown
 * result types or policies read as null rather than as a value no reader expects.
 */
export function decodeTlsRecord(stored: unknown): TlsRecord | null {
  let v = stored;
  if (typeof v === "string") {
    if (v === "") return null;
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
  }
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.outcome !== "string" || !LEVELS.includes(o.outcome)) return null;
  const resultType = text(o.result_type);
  const policy = text(o.policy);
  return {
    outcome: o.outcome as TlsLevel,
    protocol: text(o.protocol),
    cipher: text(o.cipher),
    result_type: resultType && (RESULT_TYPES as readonly string[]).includes(resultType) ? (resultType as ResultType) : null,
    policy: policy && POLICIES.includes(policy) ? (policy as TlsRecord["policy"]) : null,
  };
}
