/**
 * The DATA payload (RFC 5321 §4.5.2): CRLF-only lines, a leading "." doubled, no line
 * over 998 octets (longer ones are broken, as other MTAs do), ended by CRLF.CRLF.
 * Runs of ordinary bytes are copied whole; only line ends and leading dots are looked at,
 * and line ends are found with native `indexOf` (a 100 KiB message is scanned by the engine,
 * not byte by byte in JavaScript).
 */
import * as nodeBuffer from "node:buffer";

const MAX_LINE = 998;
const CR = 13;
const LF = 10;
const DOT = 46;

const indexOrEnd = (bytes: Uint8Array, byte: number, from: number): number => {
  const at = bytes.indexOf(byte, from);
  return at < 0 ? bytes.length : at;
};

export function encodeData(message: Uint8Array): Uint8Array {
  let out = new Uint8Array(message.length + (message.length >> 6) + 16);
  let n = 0;
  const ensure = (extra: number) => {
    if (n + extra <= out.length) return;
    const bigger = new Uint8Array(Math.max(out.length * 2, n + extra));
    bigger.set(out.subarray(0, n));
    out = bigger;
  };
  const copy = (from: number, to: number) => {
    if (to <= from) return;
    ensure(to - from);
    out.set(message.subarray(from, to), n);
    n += to - from;
  };
  const crlf = () => {
    ensure(2);
    out[n++] = CR;
    out[n++] = LF;
  };
  let i = 0;
  const len = message.length;
  // The next CR and LF at or after i, each searched again only once passed: O(n) in all,
  // even for a message with no CR at all.
  let nextCr = -1;
  let nextLf = -1;
  // Lines already right (CRLF, no leading dot, not too long) are copied as one run.
  let run = 0;
  while (i < len) {
    // One line: [i, end) without its line break (a lone CR or LF ends a line too).
    if (nextCr < i) nextCr = indexOrEnd(message, CR, i);
    if (nextLf < i) nextLf = indexOrEnd(message, LF, i);
    let end = Math.min(nextCr, nextLf);
    if (end + 1 < len && message[end] === CR && message[end + 1] === LF && end - i <= MAX_LINE && message[i] !== DOT) {
      i = end + 2;
      continue;
    }
    copy(run, i);
    // A line too long is broken into pieces; each piece is a line and may need its dot stuffed.
    for (let at = i; ; ) {
      let room = MAX_LINE;
      if (message[at] === DOT && at < end) {
        ensure(1);
        out[n++] = DOT;
        room--;
      }
      const stop = Math.min(end, at + room);
      copy(at, stop);
      at = stop;
      crlf();
      if (at >= end) break;
    }
    if (end < len && message[end] === CR && message[end + 1] === LF) end++;
    i = end + 1;
    run = i;
  }
  copy(run, len);
  ensure(3);
  out[n++] = DOT;
  out[n++] = CR;
  out[n++] = LF;
  return out.subarray(0, n);
}

/**
 * Whether the message holds any octet ≥ 0x80 (then it needs 8BITMIME or SMTPUTF8,
 * RFC 6152). node:buffer's `isAscii` is a native scan (Bun, Node, Workers with
 * nodejs_compat); where it is missing, a loop.
 */
// Read from the namespace: a runtime whose node:buffer lacks it must not fail to load this module.
const isAscii = (nodeBuffer as { isAscii?: (input: Uint8Array) => boolean }).isAscii;

export function hasEightBit(bytes: Uint8Array): boolean {
  if (typeof isAscii === "function") return !isAscii(bytes);
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return true;
  return false;
}
