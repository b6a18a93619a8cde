/**
 * Messages submitted over HTTP may use bare LF (as files on disk do). What the relay stores
 * and sends is CRLF-only (RFC 5322 §2.3), so lone CR and LF become CRLF here. Null when a
 * line exceeds 998 octets (RFC 5322 §2.1.1), which could not be relayed intact.
 */
const MAX_LINE = 998;
const CR = 13;
const LF = 10;

/**
 * True when every line already ends in CRLF, holds no other CR and is at most 998 octets:
 * the common case (what mail clients and libraries write), checked with native `indexOf`
 * scans so the message needs no copy.
 */
function alreadyCanonical(input: Uint8Array): boolean {
  for (let start = 0; start < input.length; ) {
    const lf = input.indexOf(LF, start);
    if (lf <= start || input[lf - 1] !== CR || lf - 1 - start > MAX_LINE) return false;
    if (input.indexOf(CR, start) !== lf - 1) return false;
    start = lf + 1;
  }
  return true;
}

/** The message with CRLF line endings: the input itself when it already has them, else a copy. */
export function normalizeLineEndings(input: Uint8Array): Uint8Array | null {
  if (alreadyCanonical(input)) return input;
  const out = new Uint8Array(input.length * 2 + 2);
  let n = 0;
  let line = 0;
  for (let i = 0; i < input.length; i++) {
    const b = input[i]!;
    if (b === CR || b === LF) {
      if (b === CR && input[i + 1] === LF) i++;
      out[n++] = CR;
      out[n++] = LF;
      line = 0;
      continue;
    }
    if (++line > MAX_LINE) return null;
    out[n++] = b;
  }
  if (line > 0) {
    out[n++] = CR;
    out[n++] = LF;
  }
  return out.slice(0, n);
}
