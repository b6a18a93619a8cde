/**
 * The DATA decoder and BDAT reader as they were before one-copy ingress (each run copied
 * with `slice`, BDAT lines checked byte by byte): the reference bench/micro/ingress.ts
 * measures against and test/unit/smtp/ingress-bytes.test.ts compares with, byte for byte.
 */import { concat } from "../../src/util/bytes.ts";

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

type DataProblem = "bare-line-ending" | "line-too-long" | "too-big";

// RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets including <CR><LF>.
const MAX_TEXT_LINE = 1000;

export class DotDecoderReference {
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
export class ChunkReaderReference {
  private remaining = 0;
  private afterCr = false;
  private lineLength = 0;
  private size = 0;
  private readonly parts: Uint8Array[] = [];
  problem: DataProblem | null = null;

  constructor(private readonly maxBytes: number) {}

  /** Starts a chunk of `n` octets. */
  begin(n: number): void {
    this.remaining = n;
    if (this.size + n > this.maxBytes) this.problem ??= "too-big";
  }

  get chunkDone(): boolean {
    return this.remaining === 0;
  }

  get totalSize(): number {
    return this.size;
  }

  /** Consumes up to the rest of the current chunk; returns the octets taken. */
  feed(bytes: Uint8Array): number {
    const take = Math.min(this.remaining, bytes.length);
    const slice = bytes.subarray(0, take);
    for (let i = 0; i < slice.length; i++) {
      const b = slice[i]!;
      this.lineLength++;
      if (this.afterCr && b !== LF) this.problem ??= "bare-line-ending";
      if (b === LF) {
        if (!this.afterCr) this.problem ??= "bare-line-ending";
        if (this.lineLength > MAX_TEXT_LINE) this.problem ??= "line-too-long";
        this.lineLength = 0;
      }
      this.afterCr = b === CR;
    }
    this.remaining -= take;
    this.size += take;
    if (!this.problem && take > 0) this.parts.push(bytes.slice(0, take));
    return take;
  }

  /** At BDAT LAST: the message (after `prefix`), ending in <CR><LF>, or null when invalid. */
  finish(prefix?: Uint8Array): Uint8Array | null {
    if (this.afterCr) this.problem ??= "bare-line-ending";
    if (this.lineLength > MAX_TEXT_LINE) this.problem ??= "line-too-long";
    if (this.problem) return null;
    if (this.lineLength > 0) this.parts.push(new Uint8Array([CR, LF]));
    return concat(prefix ? [prefix, ...this.parts] : this.parts);
  }
}
