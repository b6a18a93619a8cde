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
 * - Clean lines (the first CR after the line start is just before its LF) are taken whole,
 *   found with native `indexOf`; only line starts, bare line ends and chunk ends go byte by
 *   byte. The body is kept as views of the input and joined once, with the trace header.
 */
import { Buffer } from "node:buffer";
import { concat } from "../util/bytes.ts";

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
    const scan = asBuffer(chunk);
    const n = chunk.length;
    let runStart = 0;
    let i = 0;
    // The next CR and LF at or after i, each searched again only once passed.
    let nextCr = -1;
    let nextLf = -1;
    while (i < n && this.state !== State.Done) {
      const state = this.state;
      if (state === State.InLine || (state === State.LineStart && chunk[i] !== DOT)) {
        if (nextCr < i) nextCr = indexOr(scan, CR, i, n);
        if (nextLf < i) nextLf = indexOr(scan, LF, i, n);
        if (nextLf < n && nextCr === nextLf - 1) {
          // Fast path: the rest of the line and its <CR><LF>, no bare CR or LF in it.
          this.lineLength += nextLf + 1 - i;
          i = nextLf + 1;
          this.endLine();
          continue;
        }
        // A bare CR or LF ahead, or a line that goes on in the next chunk: ordinary bytes
        // up to it are skipped, then the byte itself goes through the state machine.
        const j = Math.min(nextCr, nextLf);
        if (j > i) {
          this.lineLength += j - i;
          i = j;
          this.state = State.InLine;
          continue;
        }
      }
      const b = chunk[i]!;
      this.lineLength++;
      switch (state) {
        case State.LineStart:
          if (b === DOT) {
            this.emit(chunk, runStart, i);
            runStart = i + 1;
            this.state = State.Dot;
          } else this.inLine(b);
          break;
        case State.InLine:
          this.inLine(b);
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
      i++;
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
    // A view, not a copy: the socket hands over each read in a buffer of its own, never
    // reused, so the one copy is the join in message().
    this.parts.push(chunk.subarray(from, to));
  }
}

/** The same bytes as a Buffer, whose indexOf is the faster native scan (node:buffer). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function indexOr(bytes: Buffer, byte: number, from: number, otherwise: number): number {
  const at = bytes.indexOf(byte, from);
  return at < 0 ? otherwise : at;
}
