/**
 * VERP return-path tokens: the envelope sender `b-<token>@RPDOMAIN` names the message and
 * the recipient row it was sent to, so a DSN that comes back days later (RFC 3464) — or a
 * complaint sent to the return path — is about exactly one recipient, whatever the report
 * says or leaves out.
 *
 * Form: `b-<queue id>-<recipient row id>-<mac>`, all lower-case (receivers may fold the
 * case of a local part; RFC 5321 §2.4 only lets them). The queue id is Crockford base32 in
 * upper case (smtp/ids.ts), so it is lower-cased and folded back; the row id is base 32; the
 * MAC is 64 bits of HMAC-SHA256 under a key of its own derived from SMARTHOST_SECRET_KEY,
 * in RFC 4648 base32: a forged token is a 2^-64 guess per RCPT.
 * The whole local part stays well under RFC 5321 §4.5.3.1.1's 64 octets.
 */
import { constantTimeEqual } from "../util/bytes.ts";

/** HMAC of `data` under a key derived for `purpose` (SecretBox.mac). */
export type Mac = (data: Uint8Array, purpose: string) => Promise<Uint8Array>;

export interface ReturnToken {
  messageId: string;
  recipientId: number;
}

const PURPOSE = "return-path";
const MAC_BYTES = 8;
const B32 = "abcdefghijklmnopqrstuvwxyz234567";
const QUEUE_ID = /^[0-9A-Z]{1,40}$/;
const LOCAL = /^b-([0-9a-z]{1,40})-([0-9a-v]{1,10})-([a-z2-7]{13})$/;

function base32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31];
  return out;
}

async function tag(mac: Mac, messageId: string, recipientId: number): Promise<string> {
  const sig = await mac(new TextEncoder().encode(`${messageId}.${recipientId}`), PURPOSE);
  return base32(sig.subarray(0, MAC_BYTES));
}

/** The token's local part (`b-…`), or null for a queue id that is not of our own form. */
export async function returnLocalPart(mac: Mac, t: ReturnToken): Promise<string | null> {
  if (!QUEUE_ID.test(t.messageId) || !Number.isSafeInteger(t.recipientId) || t.recipientId < 0) return null;
  return `b-${t.messageId.toLowerCase()}-${t.recipientId.toString(32)}-${await tag(mac, t.messageId, t.recipientId)}`;
}

/** What a local part names, when it is a token we made; null for anything else. */
export async function readReturnLocalPart(mac: Mac, localPart: string): Promise<ReturnToken | null> {
  const m = LOCAL.exec(localPart.toLowerCase());
  if (!m) return null;
  const messageId = m[1]!.toUpperCase();
  const recipientId = parseInt(m[2]!, 32);
  if (!Number.isSafeInteger(recipientId)) return null;
  const expected = await tag(mac, messageId, recipientId);
  return constantTimeEqual(expected, m[3]!) ? { messageId, recipientId } : null;
}
