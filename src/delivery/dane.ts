/**
 * DANE for SMTP (RFC 7672 §3, RFC 7671, RFC 6698 §2.1): which TLSA records an SMTP client
 * may use, and whether a server's certificate chain matches them. Pure: the certificate
 * parsing and hashing come in as `CertificateTools` (node:crypto in
 * src/runtime/node-x509.ts), so the rules are tested as a table.
 */
import type { ResultType } from "../core/tls-record.ts";
import type { Tlsa } from "./dns-message.ts";

export type { Tlsa } from "./dns-message.ts";

/** What DANE needs of a certificate (DER bytes in, facts out). */
export interface CertificateTools {
  /** The DER SubjectPublicKeyInfo (RFC 6698 §2.1.2 selector 1). */
  spki(der: Uint8Array): Uint8Array;
  digest(algorithm: "sha256" | "sha512", data: Uint8Array): Uint8Array;
  /** `child` names `issuer` as its issuer and carries a signature by its key. */
  issuedBy(child: Uint8Array, issuer: Uint8Array): boolean;
  /** The certificate is for `host` (RFC 6125: DNS-ID, one leftmost wildcard label). */
  matchesHost(der: Uint8Array, host: string): boolean;
  validAt(der: Uint8Array, now: number): boolean;
}

// RFC 7218 acronyms.
export const DANE_TA = 2;
export const DANE_EE = 3;

/**
 * RFC 7672 §3.1.3: PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP (no CA set is agreed
 * between MTAs); an unknown selector or matching type is unusable too (RFC 6698 §4.1).
 */
export const usableTlsa = (t: Tlsa): boolean => (t.usage === DANE_TA || t.usage === DANE_EE) && (t.selector === 0 || t.selector === 1) && t.matchingType <= 2;

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** RFC 6698 §2.1.2–2.1.3: the selected part of the certificate, hashed as the record says, equals its data. */
export function tlsaMatches(t: Tlsa, der: Uint8Array, tools: CertificateTools): boolean {
  let selected: Uint8Array;
  try {
    selected = t.selector === 1 ? tools.spki(der) : der;
  } catch {
    return false;
  }
  const value = t.matchingType === 1 ? tools.digest("sha256", selected) : t.matchingType === 2 ? tools.digest("sha512", selected) : selected;
  return equal(value, t.data);
}

export type DaneCheck = { ok: true; usage: "DANE-EE" | "DANE-TA" } | { ok: false; resultType: ResultType; reason: string };

/**
 * Does the chain the server sent (leaf first) satisfy the usable records?
 *
 * - DANE-EE(3): the leaf matches; its names and dates are not checked (RFC 7672 §3.1.1).
 * - DANE-TA(2): a certificate of the chain matches and is its trust anchor: each
 *   certificate below it is issued by the next and in date, and the leaf carries one of
 *   the reference names — the MX host name (RFC 7672 §3.1.2, §3.2.2). The anchor's own
 *   dates are not checked: in RFC 5280 a trust anchor is an input, not part of the path.
 */
export function checkChain(chain: Uint8Array[], records: Tlsa[], names: string[], tools: CertificateTools, now: number): DaneCheck {
  const usable = records.filter(usableTlsa);
  const leaf = chain[0];
  if (!leaf) return { ok: false, resultType: "tlsa-invalid", reason: "the server sent no certificate" };
  if (usable.some((t) => t.usage === DANE_EE && tlsaMatches(t, leaf, tools))) return { ok: true, usage: "DANE-EE" };
  const anchors = usable.filter((t) => t.usage === DANE_TA);
  let pathProblem: DaneCheck | null = null;
  for (let i = 0; i < chain.length && anchors.length > 0; i++) {
    if (!anchors.some((t) => tlsaMatches(t, chain[i]!, tools))) continue;
    const problem = pathTo(chain, i, names, tools, now);
    if (!problem) return { ok: true, usage: "DANE-TA" };
    pathProblem ??= problem;
  }
  return pathProblem ?? { ok: false, resultType: "tlsa-invalid", reason: `no certificate of the server's chain matches its ${usable.length} usable TLSA record(s)` };
}

/** Why the path from the leaf up to chain[anchor] does not hold, or null when it does. */
function pathTo(chain: Uint8Array[], anchor: number, names: string[], tools: CertificateTools, now: number): DaneCheck | null {
  for (let j = 0; j < anchor; j++) {
    if (!tools.issuedBy(chain[j]!, chain[j + 1]!)) return { ok: false, resultType: "tlsa-invalid", reason: `certificate ${j} of the chain is not issued by the next one up to the TLSA trust anchor` };
    if (!tools.validAt(chain[j]!, now)) return { ok: false, resultType: "certificate-expired", reason: `certificate ${j} of the chain is expired or not yet valid` };
  }
  if (!names.some((n) => tools.matchesHost(chain[0]!, n))) return { ok: false, resultType: "certificate-host-mismatch", reason: `the certificate is not for ${names.join(" or ")}` };
  return null;
}
