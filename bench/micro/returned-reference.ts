/**
 * What a DSN returns of the original message (src/delivery/returned.ts) as it was before
 * native scans (per-byte loops over the header block and, for RET=FULL, the whole message):
 * the reference test/unit/delivery/returned-scan.test.ts compares with.
 */
/** Returned headers are cut (at a field boundary) past this many octets. */
const MAX_RETURNED_HEADERS = 64 * 1024;
// RFC 5322 §2.1.1: lines of at most 998 octets, the limit for 7bit and 8bit (RFC 2045 §2.7-2.8).
const MAX_LINE = 998;

type Returned =
  | { kind: "full"; bytes: Uint8Array; transferEncoding: "7bit" | "8bit" }
  | { kind: "headers"; bytes: Uint8Array; transferEncoding: "7bit" | "8bit"; truncated: boolean }
  | null;

/** Offset just past the CRLF that ends the last header line, or -1 without an empty line. */
function headerEnd(raw: Uint8Array): number {
  if (raw[0] === 13 && raw[1] === 10) return 0;
  for (let i = 0; i + 3 < raw.length; i++) {
    if (raw[i] === 13 && raw[i + 1] === 10 && raw[i + 2] === 13 && raw[i + 3] === 10) return i + 2;
  }
  return -1;
}

/** 7bit, 8bit, or null when the bytes cannot travel as a message part unencoded (NUL, bare CR/LF, long lines). */
function transferEncoding(bytes: Uint8Array): "7bit" | "8bit" | null {
  let eight = false;
  let line = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 13) {
      if (bytes[i + 1] !== 10) return null;
      i++;
      line = 0;
      continue;
    }
    if (b === 10 || b === 0) return null;
    if (b >= 0x80) eight = true;
    if (++line > MAX_LINE) return null;
  }
  return eight ? "8bit" : "7bit";
}

/** The header block cut at the last whole field that fits under the cap. */
function cappedHeaders(raw: Uint8Array, end: number): { bytes: Uint8Array; truncated: boolean } {
  if (end <= MAX_RETURNED_HEADERS) return { bytes: raw.subarray(0, end), truncated: false };
  let cut = 0;
  for (let i = 0; i + 1 < MAX_RETURNED_HEADERS; i++) {
    // A CRLF not followed by folding whitespace ends a field (RFC 5322 §2.2.3).
    if (raw[i] === 13 && raw[i + 1] === 10 && raw[i + 2] !== 32 && raw[i + 2] !== 9) cut = i + 2;
  }
  return { bytes: raw.subarray(0, cut), truncated: true };
}

export function returnedContentReference(raw: Uint8Array, ret: string | null): Returned {
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
