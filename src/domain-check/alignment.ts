/**
 * Whether a message's From: domain will align for DMARC (RFC 7489 §3.1), judged at
 * acceptance from what the relay itself will do: sign with a DKIM key, and send with an
 * envelope sender whose SPF authorizes the addresses MX delivery leaves from. Relaxed
 * alignment (§3.1.1, §3.1.2, the default `adkim=r; aspf=r`): the two domains share their
 * organizational domain (§3.2), found with the Public Suffix List (mailauth's tldts).
 *
 * The decision is a pure function of the facts (gateway/dmarc-alignment.ts gathers them),
 * so it is tested as a table; each reason why not is written beside its case.
 */
import { getAlignment } from "mailauth/lib/tools.js";

/**
 * SPF of the envelope sender's domain for this relay's MX delivery addresses
 * (SMARTHOST_SENDING_IPS): `pass` for every address, `fail` when one is not authorized
 * (no record, `-all`, `~all` alike: DMARC counts a pass only, RFC 7489 §4.2),
 * `temperror` when DNS did not answer, `unchecked` when it could not be looked at (no
 * DNS on this runtime, no SMARTHOST_SENDING_IPS).
 */
export type SpfVerdict = "pass" | "fail" | "temperror" | "unchecked";

export interface AlignmentFacts {
  /** The From: header's domain (its first address, the one the signer signs for). */
  fromDomain: string;
  /** The envelope sender's domain; null for the null sender `<>`. */
  envelopeDomain: string | null;
  /** The domain whose active DKIM key will sign (dkim/signer.ts), or null when none will. */
  signingDomain: string | null;
  /** How the recipients' mail leaves: all by direct MX, or some through a provider relay. */
  routes: "mx" | "relay";
  /** The envelope domain's SPF verdict; absent when it was not needed or not looked up. */
  spf?: SpfVerdict;
}

export type DkimShortfall = "no_key" | "key_unaligned";
export type SpfShortfall = "null_sender" | "envelope_unaligned" | "relay_route" | "spf_fail" | "spf_temperror" | "spf_unchecked";

export type Alignment = { aligned: true; by: "dkim" | "spf" } | { aligned: false; dkim: DkimShortfall; spf: SpfShortfall };

/** RFC 7489 §3.2: the same organizational domain (the registrable domain under the PSL). */
export function orgAligned(a: string, b: string): boolean {
  return getAlignment(a.toLowerCase(), [b.toLowerCase()]) !== false;
}

/** Whether the envelope's SPF could align at all; only then is its SPF worth a lookup. */
export function spfCanAlign(f: Omit<AlignmentFacts, "spf">): boolean {
  return f.envelopeDomain !== null && f.routes === "mx" && orgAligned(f.fromDomain, f.envelopeDomain);
}

export function judgeAlignment(f: AlignmentFacts): Alignment {
  // RFC 7489 §3.1.1: the signature's d= and From: share the organizational domain.
  if (f.signingDomain !== null && orgAligned(f.fromDomain, f.signingDomain)) return { aligned: true, by: "dkim" };
  // A parent key the signer would use but that sits above the organizational domain (a public suffix).
  const dkim: DkimShortfall = f.signingDomain === null ? "no_key" : "key_unaligned";
  const spf = spfShortfall(f);
  return spf === null ? { aligned: true, by: "spf" } : { aligned: false, dkim, spf };
}

function spfShortfall(f: AlignmentFacts): SpfShortfall | null {
  // RFC 7489 §3.1.2 checks SPF's MAIL FROM identity; for `<>` receivers check the HELO
  // name (RFC 7208 §2.3), which is this relay's, not the sender's domain.
  if (f.envelopeDomain === null) return "null_sender";
  if (!orgAligned(f.fromDomain, f.envelopeDomain)) return "envelope_unaligned";
  // A provider relay sends with its own return path and from its own addresses: whether
  // that aligns cannot be known here.
  if (f.routes === "relay") return "relay_route";
  switch (f.spf) {
    case "pass":
      return null;
    case "fail":
      return "spf_fail";
    case "temperror":
      return "spf_temperror";
    default:
      return "spf_unchecked";
  }
}

/** What the sender (warning, refusal) and the log are told. */
export function alignmentText(f: Pick<AlignmentFacts, "fromDomain" | "envelopeDomain" | "signingDomain">, a: Extract<Alignment, { aligned: false }>): string {
  const dkim = a.dkim === "no_key" ? `no active DKIM key for ${f.fromDomain} or its organizational domain` : `the DKIM key of ${f.signingDomain} is outside ${f.fromDomain}'s organizational domain`;
  const env = f.envelopeDomain ?? "";
  const spf: Record<SpfShortfall, string> = {
    null_sender: "the envelope sender is empty (<>)",
    envelope_unaligned: `the envelope sender's domain ${env} is outside ${f.fromDomain}'s organizational domain`,
    relay_route: "some recipients' mail leaves through a provider relay, whose return path is its own",
    spf_fail: `SPF of ${env} does not authorize this relay's sending addresses`,
    spf_temperror: `SPF of ${env} could not be looked up`,
    spf_unchecked: `SPF of ${env} was not checked (no DNS or no SMARTHOST_SENDING_IPS here)`,
  };
  return `From: domain ${f.fromDomain} will not align for DMARC: ${dkim}, and ${spf[a.spf]}`;
}
