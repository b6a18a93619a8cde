/**
 * The TLS outcome of one delivery attempt, as stored with its event and on the recipient:
 * was the session encrypted, was the certificate verified, with which protocol and cipher,
 * and when TLS (or what an MTA-STS policy demanded of it) failed, the RFC 8460 §4.3 result
 * type — the data a TLS report (TLS-RPT) is built from.
 */
import type { ResultType, TlsLevel, TlsPolicy, TlsRecord } from "../core/tls-record.ts";
import type { SocketInfo } from "./socket.ts";

/** What the SMTP client saw of TLS in one session. */
export interface SessionTls {
  level: TlsLevel;
  protocol: string | null;
  cipher: string | null;
  /** What failed (or would have failed, for a certificate not demanded to verify). */
  resultType: ResultType | null;
  /** The runtime's words for a certificate problem, for the record. */
  detail?: string;
}

// Certificate verification codes (OpenSSL's X509_V_ERR_* names, as Node and Bun report
// them) by the RFC 8460 §4.3.1 type they are.
const EXPIRED = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "ERROR_IN_CERT_NOT_BEFORE_FIELD", "ERROR_IN_CERT_NOT_AFTER_FIELD"]);
const UNTRUSTED = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_CHAIN_TOO_LONG",
  "INVALID_CA",
]);

/** The RFC 8460 type of a certificate check failure (an error code, or a thrown error). */
export function certificateResultType(failure: unknown): ResultType {
  const code = typeof failure === "string" ? failure : String((failure as { code?: unknown } | null)?.code ?? "");
  const text = typeof failure === "string" ? failure : String((failure as Error | null)?.message ?? "");
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID" || code === "HOSTNAME_MISMATCH" || /altnames|hostname.*mismatch/i.test(text)) return "certificate-host-mismatch";
  if (EXPIRED.has(code) || /expired|not yet valid/i.test(text)) return "certificate-expired";
  if (UNTRUSTED.has(code) || /self.signed|unable to (get|verify)|untrusted/i.test(text)) return "certificate-not-trusted";
  return "validation-failure";
}

/** What was demanded of TLS for an attempt: the MTA-STS or DANE policy that applied, a route's check. */
export interface TlsDemand {
  policy: TlsPolicy | null;
  /** The host's certificate had to verify (enforce, or a route that verifies). */
  required: boolean;
  /** The recipient domain's policy could not be fetched (RFC 8460 §4.3.2.2). */
  policyFailure?: ResultType;
}

/**
 * What is stored for an attempt: a result type is kept only where TLS was demanded of the
 * host — an MTA-STS policy (enforce, or testing: what would have failed) or a route that
 * verifies — so the counts say what a TLS report says, not every self-signed MX.
 */
export function tlsRecord(s: SessionTls | undefined, d: TlsDemand): TlsRecord | undefined {
  if (!s) return undefined;
  const failed = d.policy !== null || d.required ? s.resultType : null;
  return { outcome: s.level, protocol: s.protocol, cipher: s.cipher, result_type: failed ?? d.policyFailure ?? null, policy: d.policy };
}

export const PLAINTEXT: SessionTls = { level: "none", protocol: null, cipher: null, resultType: null };

/** What a finished handshake gave; a runtime that cannot tell (Workers) verified exactly when asked to. */
export function negotiated(info: SocketInfo, verify: boolean): SessionTls {
  const t = info.tls;
  const verified = verify || t?.authorized === true;
  const problem = !verified && t?.authorizationError ? { resultType: certificateResultType(t.authorizationError), detail: t.authorizationError } : { resultType: null };
  return { level: verified ? "verified" : "opportunistic", protocol: t?.protocol ?? null, cipher: t?.cipher ?? null, ...problem };
}
