/**
 * The header scans of src/mime/headers.ts and src/mime/trace-limits.ts as they were before
 * native scans (a per-byte loop to find the end of the header block): the reference
 * bench/micro/headers.ts measures against and test/unit/mime/header-scan.test.ts compares with.
 */
/** End of the header block: the offset of the empty line, or the message length. */
function headerEnd(raw: Uint8Array): number {
  for (let i = 0; i + 3 < raw.length; i++) {
    if (raw[i] === 13 && raw[i + 1] === 10 && raw[i + 2] === 13 && raw[i + 3] === 10) return i + 2;
  }
  return raw.length;
}

/** The header block as text, its last line ending kept; only those bytes are decoded. */
export function headerBlockReference(raw: Uint8Array): string {
  return new TextDecoder("utf-8").decode(raw.subarray(0, headerEnd(raw)));
}

/** All values of a header field, unfolded (RFC 5322 §2.2.3), in order. */
export function headerValuesReference(raw: Uint8Array, name: string): string[] {
  const text = headerBlockReference(raw);
  const unfolded = text.replace(/\r\n(?=[ \t])/g, "");
  const wanted = name.toLowerCase();
  const out: string[] = [];
  for (const line of unfolded.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted) out.push(line.slice(colon + 1).trim());
  }
  return out;
}

const MAX_HOPS = 50;
const MAX_HEADER_BYTES = 102_400;

type TraceProblem = { kind: "too-many-hops"; hops: number } | { kind: "header-too-large"; limit: number };

const CR = 13;
const LF = 10;

/**
 * Octets in the header block (up to the empty line; the whole message when there is
 * none), looking no further than `limit` + 4 octets.
 */
function headerLengthReference(raw: Uint8Array, limit: number): number {
  if (raw[0] === CR && raw[1] === LF) return 0;
  const end = Math.min(raw.length, limit + 4);
  for (let i = 0; i + 3 < end; i++) {
    if (raw[i] === CR && raw[i + 1] === LF && raw[i + 2] === CR && raw[i + 3] === LF) return i + 2;
  }
  return raw.length;
}

/** Received: fields at the start of a line of the header block (case-insensitive, RFC 5322 §3.6.7). */
function countReceived(raw: Uint8Array, length: number): number {
  const text = new TextDecoder("latin1").decode(raw.subarray(0, length));
  return text.match(/^received[ \t]*:/gim)?.length ?? 0;
}

export function traceProblemReference(raw: Uint8Array): TraceProblem | null {
  const length = headerLengthReference(raw, MAX_HEADER_BYTES);
  if (length > MAX_HEADER_BYTES) return { kind: "header-too-large", limit: MAX_HEADER_BYTES };
  const hops = countReceived(raw, length);
  return hops >= MAX_HOPS ? { kind: "too-many-hops", hops } : null;
}
