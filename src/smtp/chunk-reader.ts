/**
 * BDAT (RFC 3030) payload reader: exactly N octets per chunk, no dot-stuffing, but the
 * same line rules as DATA — a bare <CR> or <LF> or an over-long line makes the message
 * invalid, checked across chunk boundaries.
 */
import { concat } from "../util/bytes.ts";
import { asBuffer, indexOr, MAX_TEXT_LINE, type DataProblem } from "./dot-decoder.ts";

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
    const scan = asBuffer(bytes);
    let nextCr = -1;
    let nextLf = -1;
    for (let i = 0; i < take; ) {
      if (!this.afterCr) {
        if (nextCr < i) nextCr = indexOr(scan, CR, i, take);
        if (nextLf < i) nextLf = indexOr(scan, LF, i, take);
        // Whole clean lines (the first CR is just before the LF) and ordinary bytes are
        // counted without looking at each; line ends go through the rules below.
        if (nextLf < take && nextCr === nextLf - 1) {
          this.lineLength += nextLf + 1 - i;
          if (this.lineLength > MAX_TEXT_LINE) this.problem ??= "line-too-long";
          this.lineLength = 0;
          i = nextLf + 1;
          continue;
        }
        // The input may go on past this chunk: stop at its end.
        const j = Math.min(nextCr, nextLf, take);
        if (j > i) {
          this.lineLength += j - i;
          i = j;
          continue;
        }
      }
      const b = bytes[i]!;
      this.lineLength++;
      if (this.afterCr && b !== LF) this.problem ??= "bare-line-ending";
      if (b === LF) {
        if (!this.afterCr) this.problem ??= "bare-line-ending";
        if (this.lineLength > MAX_TEXT_LINE) this.problem ??= "line-too-long";
        this.lineLength = 0;
      }
      this.afterCr = b === CR;
      i++;
    }
    this.remaining -= take;
    this.size += take;
    // A view, not a copy (see DotDecoder.emit): joined once at BDAT LAST.
    if (!this.problem && take > 0) this.parts.push(bytes.subarray(0, take));
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
