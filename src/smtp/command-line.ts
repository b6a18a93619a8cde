/**
 * Framing of command lines (RFC 5321 §2.3.8, §4.5.3.1.4): a line ends with <CR><LF> only;
 * a bare CR or LF is an error (smuggling); 512 octets at most, 12 288 for AUTH lines
 * (RFC 4954 §4). An over-long line is refused once and skipped to its end.
 */
import { replies, type Reply } from "../core/reply.ts";

// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with <CR><LF>.
const MAX_COMMAND_LINE = 512;
// RFC 4954 §4: AUTH lines (with initial response) up to 12288 octets.
const MAX_AUTH_LINE = 12288;
const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder("utf-8", { fatal: true });

export type Framed =
  /** A whole line, without <CR><LF>. */
  | { kind: "line"; text: string }
  /** Need more input. */
  | { kind: "incomplete" }
  /** A line that was refused (reply given) or skipped; go on with the rest. */
  | { kind: "refused"; reply: Reply | null }
  /** A bare CR or LF: refuse and hang up. */
  | { kind: "bare" };

export class LineFramer {
  private discarding = false;

  /** Takes the next line from `buf`; returns what it found and the input left. */
  take(buf: Uint8Array, authExchange: boolean): { framed: Framed; rest: Uint8Array } {
    const lf = buf.indexOf(10);
    if (lf < 0) {
      if (this.discarding) return { framed: { kind: "incomplete" }, rest: EMPTY };
      if (buf.length <= MAX_AUTH_LINE) return { framed: { kind: "incomplete" }, rest: buf };
      this.discarding = true;
      return { framed: { kind: "refused", reply: authExchange ? replies.authLineTooLong : replies.lineTooLong }, rest: EMPTY };
    }
    const raw = buf.subarray(0, lf + 1);
    const rest = buf.subarray(lf + 1);
    if (this.discarding) {
      this.discarding = false;
      return { framed: { kind: "refused", reply: null }, rest };
    }
    if (raw.indexOf(13) !== raw.length - 2) return { framed: { kind: "bare" }, rest };
    let text: string;
    try {
      text = utf8.decode(raw.subarray(0, raw.length - 2));
    } catch {
      return { framed: { kind: "refused", reply: replies.syntax("Command is not valid UTF-8") }, rest };
    }
    const isAuth = authExchange || /^AUTH /i.test(text);
    if (raw.length > (isAuth ? MAX_AUTH_LINE : MAX_COMMAND_LINE)) {
      return { framed: { kind: "refused", reply: isAuth ? replies.authLineTooLong : replies.lineTooLong }, rest };
    }
    return { framed: { kind: "line", text }, rest };
  }
}
