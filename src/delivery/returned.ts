/**
 * What of the original message a DSN carries back (RFC 3461 §4.3, RFC 3462 §2): the whole
 * message, byte for byte, when the sender asked RET=FULL; otherwise its header block,
 * capped. A message with no end of header block (no empty line) returns nothing: its
 * "headers" would be the whole payload, carried to whatever the envelope sender names.
 * The scans are native (node:buffer's indexOf), not per-byte loops: RET=FULL reads the
 * whole message.
 */
import { Buffer } from "node:buffer";
import { blankLineAt } from "../mime/headers.ts";
import { hasEightBit } from "./encode.ts";

/** Returned headers are cut (at a field boundary) past this many octets. */
export const MAX_RETURNED_HEADERS = 64 * 1024;
// RFC 5322 §2.1.1: lines of at most 998 octets, the limit for 7bit and 8bit (RFC 2045 §2.7-2.8).
const MAX_LINE = 998;

export type Returned =
  | { kind: "full"; bytes: Uint8Array; transferEncoding: "7bit" | "8bit" }
  | { kind: "headers"; bytes: Uint8Array; transferEncoding: "7bit" | "8bit"; truncated: boolean }
  | null;

const CR = 13;
const LF = 10;
const CRLF = Buffer.from("\r\n");

const view = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Offset just past the CRLF that ends the last header line, or -1 without an empty line. */
function headerEnd(raw: Uint8Array): number {
  if (raw[0] === CR && raw[1] === LF) return 0;
  const at = blankLineAt(raw);
  return at < 0 ? -1 : at + 2;
}

/**
 * 7bit, 8bit, or null when the bytes cannot travel as a message part unencoded (NUL, bare
 * CR/LF, long lines). Native scans: NUL and 8-bit octets over the whole, then line by line.
 */
function transferEncoding(bytes: Uint8Array): "7bit" | "8bit" | null {
  const scan = view(bytes);
  if (scan.indexOf(0) >= 0) return null;
  const len = bytes.length;
  let nextCr = -1;
  let nextLf = -1;
  for (let i = 0; i < len; ) {
    if (nextCr < i) nextCr = indexOrEnd(scan, CR, i);
    if (nextLf < i) nextLf = indexOrEnd(scan, LF, i);
    const end = Math.min(nextCr, nextLf);
    if (end - i > MAX_LINE) return null;
    if (end === len) break;
    // The first line break after i must be a CR followed by LF.
    if (bytes[end] !== CR || bytes[end + 1] !== LF) return null;
    i = end + 2;
  }
  return hasEightBit(bytes) ? "8bit" : "7bit";
}

const indexOrEnd = (bytes: Buffer, byte: number, from: number): number => {
  const at = bytes.indexOf(byte, from);
  return at < 0 ? bytes.length : at;
};

/** The header block cut at the last whole field that fits under the cap. */
function cappedHeaders(raw: Uint8Array, end: number): { bytes: Uint8Array; truncated: boolean } {
  if (end <= MAX_RETURNED_HEADERS) return { bytes: raw.subarray(0, end), truncated: false };
  // The last CRLF starting before the cap's last octet that is not followed by folding
  // whitespace ends a field (RFC 5322 §2.2.3); searched backwards, natively.
  const scan = view(raw);
  let at = scan.lastIndexOf(CRLF, MAX_RETURNED_HEADERS - 2);
  while (at >= 0 && (raw[at + 2] === 32 || raw[at + 2] === 9)) at = at > 0 ? scan.lastIndexOf(CRLF, at - 1) : -1;
  return { bytes: raw.subarray(0, at < 0 ? 0 : at + 2), truncated: true };
}

export function returnedContent(raw: Uint8Array, ret: string | null): Returned {
  const end = headerEnd(raw);
  if (end <= 0) return null;
  if (ret === "FULL") {
    // message/rfc822 allows only 7bit, 8bit or binary (RFC 2046 §5.2.1): the bytes go as
    // they are. Bytes that could not (never the case for mail received over SMTP) fall
    // back to the headers.
    const te = transferEncoding(raw);
    if (te) return { kind: "full", bytes: raw, transferEncoding: te };
  }
  const h = cappedHeaders(raw, end);
  const te = transferEncoding(h.bytes);
  return te && h.bytes.length > 0 ? { kind: "headers", bytes: h.bytes, transferEncoding: te, truncated: h.truncated } : null;
}
