/**
 * BDAT (RFC 3030) payload reader: exactly N octets per chunk, no dot-stuffing, but the
 * same line rules as DATA — a bare <CR> or <LF> or an over-long line makes the message
 * invalid, checked across chunk boundaries.
 */
import { concat } from "../util/bytes.ts";
import { MAX_TEXT_LINE, type DataProblem } from "./dot-decoder.ts";

const CR = 13;
const LF = 10;

export class ChunkReader {
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
