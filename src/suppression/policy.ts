/**
 * Which permanent failures put the recipient on the account's suppression list: only
 * those that are the recipient's fault. A sender's own misconfiguration (a relay refusing
 * the sender, a policy or reputation block) must never suppress good addresses.
 */
import type { UpstreamReply } from "../events/types.ts";

/** Bounces stay suppressed this long unless renewed; manual entries never expire. */
export const BOUNCE_SUPPRESSION_MS = 30 * 86_400_000;

// RFC 3463 §3.2: X.1.7 and X.1.8 are about the sender's address, not the recipient's.
const SENDER_CODES = /^5\.1\.[78]$/;
// A relay that says "sender" in a 5.1.x is refusing the envelope sender (e.g. "5.1.0 Sender address rejected").
const ABOUT_SENDER = /\bsender\b|\bmail from\b|\bfrom address\b/i;

/**
 * True for 5.1.x (no such user, bad domain, no MX, null MX 5.1.10) from the recipient's
 * side. Never 5.7.x (policy), never a 4.4.7 expiry (a 4xx code: the last try was only
 * deferred), never a refusal that names the sender.
 */
export function suppressesRecipient(r: UpstreamReply): boolean {
  if (r.code < 500 || r.code > 599) return false;
  const e = r.enhanced ?? "";
  if (!/^5\.1\.\d+$/.test(e) || SENDER_CODES.test(e)) return false;
  return !ABOUT_SENDER.test(r.text);
}
