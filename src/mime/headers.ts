/** Reading header fields from a raw RFC 5322 message (the header block only). */

/** End of the header block: the offset of the empty line, or the message length. */
function headerEnd(raw: Uint8Array): number {
  for (let i = 0; i + 3 < raw.length; i++) {
    if (raw[i] === 13 && raw[i + 1] === 10 && raw[i + 2] === 13 && raw[i + 3] === 10) return i + 2;
  }
  return raw.length;
}

/** The header block as text, its last line ending kept; only those bytes are decoded. */
export function headerBlock(raw: Uint8Array): string {
  return new TextDecoder("utf-8").decode(raw.subarray(0, headerEnd(raw)));
}

/** All values of a header field, unfolded (RFC 5322 §2.2.3), in order. */
export function headerValues(raw: Uint8Array, name: string): string[] {
  const text = headerBlock(raw);
  const unfolded = text.replace(/\r\n(?=[ \t])/g, "");
  const wanted = name.toLowerCase();
  const out: string[] = [];
  for (const line of unfolded.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted) out.push(line.slice(colon + 1).trim());
  }
  return out;
}
