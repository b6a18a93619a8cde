/**
 * The fields a submission server adds to a message that lacks them (RFC 6409 §8.2, §8.3:
 * Date: and Message-ID:), as Postfix's cleanup does: appended at the end of the header
 * block, never changing a field the sender wrote. Pure: bytes in, bytes out.
 *
 * The header block ends at the first empty line, or at the first line that is neither a
 * field nor a fold of one (RFC 5322 §2.2, §3.5): such a line is where the body begins, so
 * the empty line that should stand before it is added with the fields (a message with no
 * header block at all gets one).
 */
import { rfc5322Date } from "../smtp/trace.ts";

export interface SubmissionFieldValues {
  /** The local part of a new Message-ID (the queue id: unique per message). */
  id: string;
  /** Its domain part: the relay's hostname. */
  hostname: string;
  now: Date;
}

const CR = 13;
const LF = 10;
// RFC 5322 §3.6.8: field-name = 1*ftext (printable ASCII but ":"); §4.5.3 allows WSP before the colon.
const FIELD = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

interface HeaderScan {
  /** Lowercased names of the fields in the header block. */
  names: Set<string>;
  /** Where new fields go: the offset of the line that ends the header block (or the end). */
  end: number;
  /** The line at `end` is the body's first line, not the empty separator. */
  bodyWithoutSeparator: boolean;
  /** The message ends inside a field line that has no CRLF. */
  openLastLine: boolean;
}

function scanHeader(raw: Uint8Array): HeaderScan {
  const names = new Set<string>();
  const decoder = new TextDecoder("latin1");
  let inField = false;
  for (let start = 0; start < raw.length; ) {
    const lf = raw.indexOf(LF, start);
    const stop = lf < 0 ? raw.length : lf + 1;
    const content = lf > start && raw[lf - 1] === CR ? lf - 1 : lf < 0 ? raw.length : lf;
    if (content === start && lf >= 0) return { names, end: start, bodyWithoutSeparator: false, openLastLine: false };
    const first = raw[start];
    if (inField && (first === 0x20 || first === 0x09)) {
      // A fold of the field above (RFC 5322 §2.2.3).
    } else {
      const m = FIELD.exec(decoder.decode(raw.subarray(start, Math.min(content, start + 1000))));
      if (!m) return { names, end: start, bodyWithoutSeparator: true, openLastLine: false };
      names.add(m[1]!.toLowerCase());
      inField = true;
    }
    if (lf < 0) return { names, end: raw.length, bodyWithoutSeparator: false, openLastLine: true };
    start = stop;
  }
  return { names, end: raw.length, bodyWithoutSeparator: false, openLastLine: false };
}

/** `raw` with Date: and Message-ID: added where missing; `raw` itself when it has both. */
export function withSubmissionFields(raw: Uint8Array, v: SubmissionFieldValues): Uint8Array {
  const scan = scanHeader(raw);
  let fields = "";
  if (!scan.names.has("date")) fields += `Date: ${rfc5322Date(v.now)}\r\n`;
  if (!scan.names.has("message-id")) fields += `Message-ID: <${v.id}@${v.hostname}>\r\n`;
  if (fields === "") return raw;
  const text = (scan.openLastLine ? "\r\n" : "") + fields + (scan.bodyWithoutSeparator ? "\r\n" : "");
  const add = new TextEncoder().encode(text);
  const out = new Uint8Array(raw.length + add.length);
  out.set(raw.subarray(0, scan.end));
  out.set(add, scan.end);
  out.set(raw.subarray(scan.end), scan.end + add.length);
  return out;
}
