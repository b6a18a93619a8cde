/** Reading header fields from a raw RFC 5322 message (the header block only). */
import { Buffer } from "node:buffer";

const BLANK_LINE = Buffer.from("\r\n\r\n");

/**
 * Where the first CRLF CRLF starts, looking at the first `within` octets only; -1 when there
 * is none. A native search (node:buffer's indexOf), not a loop over the bytes.
 */
export function blankLineAt(raw: Uint8Array, within: number = raw.length): number {
  const end = Math.min(within, raw.length);
  if (end < 4) return -1;
  return Buffer.from(raw.buffer, raw.byteOffset, end).indexOf(BLANK_LINE);
}

/** End of the header block: the offset of the empty line, or the message length. */
function headerEnd(raw: Uint8Array): number {
  const at = blankLineAt(raw);
  return at < 0 ? raw.length : at + 2;
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
