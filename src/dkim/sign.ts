/**
 * DKIM signing of one message (RFC 6376), relaxed/relaxed, with keys already imported.
 *
 * mailauth does the canonicalization (body hash, relaxed header form, the folded
 * DKIM-Signature line); the header list and the signature itself are made here because
 * mailauth's `dkimSign` lists in h= only the fields present — it cannot over-sign — and
 * parses the PEM key again for every message. Signing on WebCrypto also keeps RSA working
 * on Workers, where node:crypto's `sign("rsa-sha256")` is refused.
 */
import { Buffer } from "node:buffer";
import { dkimBody } from "mailauth/lib/dkim/body/index.js";
import { relaxedHeaders } from "mailauth/lib/dkim/header/relaxed.js";
import { formatSignatureHeaderLine } from "mailauth/lib/tools.js";
import { blankLineAt } from "../mime/headers.ts";
import { bytesToBase64 } from "../util/bytes.ts";
import { signatureAlgorithm, signHeaderData, type DkimAlgorithm } from "./keys.ts";

export interface SigningKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  key: CryptoKey;
}

// RFC 6376 §5.4.1's list (plus the MIME fields, Sender, Message-ID, RFC 8058's
// List-Unsubscribe-Post, which a one-click unsubscribe needs signed, and RFC 8460 §5.3's
// TLS-Report-Domain and TLS-Report-Submitter, which say whom a TLS report is from).
const SIGNED = [
  "From", "Sender", "Reply-To", "Subject", "Date", "Message-ID", "To", "Cc",
  "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
  "Resent-Date", "Resent-From", "Resent-Sender", "Resent-To", "Resent-Cc", "Resent-Message-ID",
  "In-Reply-To", "References",
  "List-Id", "List-Help", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Subscribe", "List-Post", "List-Owner", "List-Archive",
  "TLS-Report-Domain", "TLS-Report-Submitter",
] as const;

// RFC 6376 §8.15: naming a field once more than it occurs makes a field of that name
// added later (a second From:, say) break the signature instead of riding along.
const OVERSIGNED = new Set(["from", "subject", "date", "to", "cc", "message-id"]);
// RFC 8058 §4 wants both list fields signed when present; named once more, so a second
// List-Unsubscribe-Post (or URI) added on the way breaks the signature. When absent they are
// left out, so a mailing list that adds its own may still forward the message intact.
const OVERSIGNED_WHEN_PRESENT = new Set(["list-unsubscribe", "list-unsubscribe-post"]);

interface Field {
  name: string;
  /** The whole field as received, folds included, no final CRLF (binary string). */
  line: string;
}

/** Splits a message into its header fields and its body (after the empty line). */
export function splitMessage(raw: Uint8Array): { fields: Field[]; body: Uint8Array } {
  const end = blankLineAt(raw);
  const headerBytes = end < 0 ? raw : raw.subarray(0, end);
  const body = end < 0 ? new Uint8Array(0) : raw.subarray(end + 4);
  // latin1 keeps every byte as one char, so 8-bit header bytes survive canonicalization.
  const text = Buffer.from(headerBytes.buffer, headerBytes.byteOffset, headerBytes.byteLength).toString("latin1");
  const fields: Field[] = [];
  for (const line of text.split(/\r\n(?![ \t])/)) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.push({ name: line.slice(0, colon).trim().toLowerCase(), line });
  }
  return { fields, body };
}

/** The h= list and the fields it covers, in h= order (RFC 6376 §5.4.2: last instance first). */
export function headerSelection(fields: Field[]): { keys: string; headers: { line: string }[] } {
  const names: string[] = [];
  const headers: { line: string }[] = [];
  for (const name of SIGNED) {
    const lower = name.toLowerCase();
    let present = false;
    for (let i = fields.length - 1; i >= 0; i--) {
      if (fields[i]!.name === lower) {
        names.push(name);
        headers.push({ line: fields[i]!.line });
        present = true;
      }
    }
    if (OVERSIGNED.has(lower) || (present && OVERSIGNED_WHEN_PRESENT.has(lower))) names.push(name);
  }
  return { keys: names.join(":"), headers };
}

/** The DKIM-Signature fields (one per key), each ending in CRLF, to put before the message. */
export async function dkimSignatures(raw: Uint8Array, keys: SigningKey[], signTime: Date): Promise<string> {
  if (keys.length === 0) return "";
  const { fields, body } = splitMessage(raw);
  const hasher = dkimBody("relaxed", "sha256", false);
  hasher.update(body);
  const bodyHash = hasher.digest("base64");
  const selection = headerSelection(fields);
  let out = "";
  for (const k of keys) {
    const { canonicalizedHeader, dkimHeaderOpts } = relaxedHeaders("DKIM", selection, {
      signingDomain: k.domain,
      selector: k.selector,
      algorithm: signatureAlgorithm(k.algorithm),
      canonicalization: "relaxed/relaxed",
      bodyHash,
      // Given, so the t= that is hashed is the t= that is written.
      signTime,
    });
    const b = bytesToBase64(await signHeaderData(k.algorithm, k.key, new Uint8Array(canonicalizedHeader)));
    out += `${formatSignatureHeaderLine("DKIM", { ...dkimHeaderOpts, b }, true)}\r\n`;
  }
  return out;
}

/** The message with its signatures prepended (RFC 6376 §5.6). */
export async function signMessage(raw: Uint8Array, keys: SigningKey[], signTime: Date): Promise<Uint8Array> {
  return prependSignatures(raw, await dkimSignatures(raw, keys, signTime));
}

/** The message with these DKIM-Signature fields (each ending in CRLF) before it. */
export function prependSignatures(raw: Uint8Array, sigs: string): Uint8Array {
  if (sigs === "") return raw;
  const head = new TextEncoder().encode(sigs);
  const out = new Uint8Array(head.length + raw.length);
  out.set(head);
  out.set(raw, head.length);
  return out;
}
