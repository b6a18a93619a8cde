/**
 * The DATA decoder (RFC 5321 §4.1.1.4, §4.5.2): a pure state machine over bytes.
 *
 * - Only <CR><LF>.<CR><LF> ends the data. The first <CR><LF> may be the one that ended the
 *   DATA command, so the decoder starts at a line start.
 * - A bare <CR> or bare <LF> marks the message invalid (SMTP smuggling). After one, the
 *   decoder is never "at a line start" until a real <CR><LF>, so `<LF>.<CR><LF>`,
 *   `<CR><LF>.<LF>` and friends can never end the data.
 * - Dot-unstuffing happens here and only here: a leading "." is removed.
 * - On an oversized message or a too-long line it keeps reading to the real end, so the
 *   dialog stays in step; the body is simply no longer kept.
 */

const CR = 13;
const LF = 10;
const DOT = 46;

const enum State {
  LineStart,
  InLine,
  Cr,
  Dot,
  DotCr,
  Done,
}

export type DataProblem = "bare-line-ending" | "line-too-long" | "too-big";

// RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets including <CR><LF>.
export const MAX_TEXT_LINE = 1000;

export class DotDecoder {
  private state = State.LineStart;
  private lineLength = 0;
  private size = 0;
  private readonly parts: Uint8Array[] = [];
  problem: DataProblem | null = null;

  constructor(private readonly maxBytes: number) {}

  get done(): boolean {
    return this.state === State.Done;
  }

  /** Feeds bytes; returns how many were consumed (less than all only when the end was found). */
  feed(chunk: Uint8Array): number {
    let runStart = 0;
    let i = 0;
    const n = chunk.length;
    let nextCr = -1;
    let nextLf = -1;
    for (; i < n && this.state !== State.Done; i++) {
      const b = chunk[i]!;
      this.lineLength++;
      switch (this.state) {
        case State.LineStart:
          if (b === DOT) {
            this.emit(chunk, runStart, i);
            runStart = i + 1;
            this.state = State.Dot;
          } else this.inLine(b);
          break;
        case State.InLine:
          // Fast path: skip ordinary bytes up to the next CR or LF (found natively, and
          // each found once per chunk).
          if (b !== CR && b !== LF) {
            if (nextCr <= i) nextCr = indexOr(chunk, CR, i, n);
            if (nextLf <= i) nextLf = indexOr(chunk, LF, i, n);
            const j = Math.min(nextCr, nextLf);
            this.lineLength += j - i - 1;
            i = j - 1;
          } else this.inLine(b);
          break;
        case State.Cr:
          if (b === LF) this.endLine();
          else {
            this.flag("bare-line-ending");
            this.inLine(b);
          }
          break;
        case State.Dot:
          if (b === CR) {
            this.emit(chunk, runStart, i);
            runStart = i + 1;
            this.state = State.DotCr;
          } else this.inLine(b);
          break;
        case State.DotCr:
          if (b === LF) {
            runStart = i + 1;
            this.state = State.Done;
          } else {
            this.flag("bare-line-ending");
            this.inLine(b);
          }
          break;
      }
    }
    if (this.state !== State.Done) this.emit(chunk, runStart, i);
    return i;
  }

  /**
   * The decoded message, or null when a problem made it invalid. A `prefix` (the trace
   * header) is joined in the same copy.
   */
  message(prefix?: Uint8Array): Uint8Array | null {
    if (this.problem) return null;
    return prefix ? concat([prefix, ...this.parts], prefix.length + this.size) : concat(this.parts, this.size);
  }

  private inLine(b: number): void {
    if (b === CR) this.state = State.Cr;
    else {
      if (b === LF) this.flag("bare-line-ending");
      this.state = State.InLine;
    }
  }

  private endLine(): void {
    if (this.lineLength > MAX_TEXT_LINE) this.flag("line-too-long");
    this.lineLength = 0;
    this.state = State.LineStart;
  }

  private flag(p: DataProblem): void {
    // The first problem is the one reported.
    this.problem ??= p;
  }

  private emit(chunk: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    this.size += to - from;
    if (this.size > this.maxBytes) this.flag("too-big");
    if (this.problem) return;
    this.parts.push(chunk.slice(from, to));
  }
}

function indexOr(chunk: Uint8Array, byte: number, from: number, otherwise: number): number {
  const at = chunk.indexOf(byte, from);
  return at < 0 ? otherwise : at;
}

export function concat(parts: Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total ?? parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
