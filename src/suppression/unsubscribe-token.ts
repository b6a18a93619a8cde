/**
 * One-click unsubscribe tokens (RFC 8058 §3.1: the URI carries "an opaque identifier or
 * another hard-to-forge component"). A token names one account, one message and the one
 * recipient that message was stored for, and carries an HMAC-SHA256 over all three keyed
 * from SMARTHOST_SECRET_KEY (purpose "list-unsubscribe"): changing any part — another
 * address, another account — makes a token that does not verify, and without the key none
 * can be made. Stateless, so a link keeps working after the message itself is purged
 * (retention); a new SMARTHOST_SECRET_KEY retires every link made with the old one.
 *
 * Form: base64url("1\nACCOUNT\nMESSAGE\nADDRESS") "." base64url(HMAC), 43 characters of tag.
 */
import { base64ToBytes, base64url, equalBytes } from "../util/bytes.ts";

export interface UnsubscribeClaim {
  accountId: string;
  messageId: string;
  /** The recipient the message was sent to, as given at submission. */
  address: string;
}

/** HMAC-SHA256 under the unsubscribe key (SecretBox.mac with its purpose). */
export type TokenMac = (data: Uint8Array) => Promise<Uint8Array>;

export const UNSUBSCRIBE_MAC_PURPOSE = "list-unsubscribe";

const VERSION = "1";
const TOKEN = /^([A-Za-z0-9_-]{8,1400})\.([A-Za-z0-9_-]{43})$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export async function makeUnsubscribeToken(mac: TokenMac, c: UnsubscribeClaim): Promise<string> {
  for (const part of [c.accountId, c.messageId, c.address]) {
    if (part === "" || /[\r\n]/.test(part)) throw new RangeError("token parts must be non-empty single lines");
  }
  const payload = encoder.encode([VERSION, c.accountId, c.messageId, c.address].join("\n"));
  return `${base64url(payload)}.${base64url(await mac(payload))}`;
}

/** The claim of a token made with this key, or null for anything else (malformed, forged, altered). */
export async function readUnsubscribeToken(mac: TokenMac, token: string): Promise<UnsubscribeClaim | null> {
  const m = TOKEN.exec(token);
  if (!m) return null;
  let payload: Uint8Array;
  let tag: Uint8Array;
  try {
    payload = base64ToBytes(m[1]!.replace(/-/g, "+").replace(/_/g, "/"));
    tag = base64ToBytes(m[2]!.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return null;
  }
  if (!equalBytes(await mac(payload), tag)) return null;
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    return null;
  }
  const parts = text.split("\n");
  if (parts.length !== 4 || parts[0] !== VERSION || parts.some((p) => p === "")) return null;
  return { accountId: parts[1]!, messageId: parts[2]!, address: parts[3]! };
}
