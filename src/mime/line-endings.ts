/**
 * Messages submitted over HTTP may use bare LF (as files on disk do). What the relay stores
 * and sends is CRLF-only (RFC 5322 §2.3), so lone CR and LF become CRLF here. Null when a
 * line exceeds 998 octets (RFC 5322 §2.1.1), which could not be relayed intact.
 */
const MAX_LINE = 998;

export function normalizeLineEndings(input: Uint8Array): Uint8Array | null {
  const out = new Uint8Array(input.length * 2 + 2);
  let n = 0;
  let line = 0;
  for (let i = 0; i < input.length; i++) {
    const b = input[i]!;
    if (b === 13 || b === 10) {
      if (b === 13 && input[i + 1] === 10) i++;
      out[n++] = 13;
      out[n++] = 10;
      line = 0;
      continue;
    }
    if (++line > MAX_LINE) return null;
    out[n++] = b;
  }
  if (line > 0) {
    out[n++] = 13;
    out[n++] = 10;
  }
  return out.slice(0, n);
}
