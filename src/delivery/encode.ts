/**
 * The DATA payload (RFC 5321 §4.5.2): CRLF-only lines, a leading "." doubled, no line
 * over 998 octets (longer ones are broken, as other MTAs do), ended by CRLF.CRLF.
 * Runs of ordinary bytes are copied whole; only line ends and leading dots are looked at,
 * and line ends are found with native `indexOf` (a 100 KiB message is scanned by the engine,
 * not byte by byte in JavaScript). A message that needs no change (every message received
 * over SMTP without a leading dot, and most others) is not copied at all: its parts are the
 * stored bytes and the terminator.
 */
import * as nodeBuffer from "node:buffer";
import { concat } from "../util/bytes.ts";

const MAX_LINE = 998;
const CR = 13;
const LF = 10;
const DOT = 46;
const TERMINATOR = new Uint8Array([DOT, CR, LF]);
// Below this a message that needs no change is still joined with the terminator: copying a
// few KiB costs less than the second socket write (measured on loopback: 2 KiB joined
// ~2 µs cheaper per message, 16 KiB and up written as they are ~3-8 µs cheaper).
const JOIN_BELOW = 8 * 1024;

const indexOrEnd = (bytes: nodeBuffer.Buffer, byte: number, from: number): number => {
  const at = bytes.indexOf(byte, from);
  return at < 0 ? bytes.length : at;
};

/** The encoded payload in one array (tests and callers that want one buffer). */
export function encodeData(message: Uint8Array): Uint8Array {
  return concat(encodeDataParts(message));
}

/**
 * The encoded payload as parts to write in order: the message itself and the terminator
 * when nothing in it needs changing (and it is not small), else one encoded copy.
 */
export function encodeDataParts(message: Uint8Array): Uint8Array[] {
  if (message.length === 0) return [TERMINATOR];
  // node:buffer's indexOf is the faster native scan; a view, not a copy.
  const scan = nodeBuffer.Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  let out: Uint8Array | null = null;
  let n = 0;
  const ensure = (extra: number): Uint8Array => {
    if (!out) out = new Uint8Array(message.length + (message.length >> 6) + 16);
    if (n + extra <= out.length) return out;
    const bigger: Uint8Array = new Uint8Array(Math.max(out.length * 2, n + extra));
    bigger.set(out.subarray(0, n));
    out = bigger;
    return out;
  };
  const copy = (from: number, to: number) => {
    if (to <= from) return;
    ensure(to - from).set(message.subarray(from, to), n);
    n += to - from;
  };
  const crlf = () => {
    const o = ensure(2);
    o[n++] = CR;
    o[n++] = LF;
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
    if (nextCr < i) nextCr = indexOrEnd(scan, CR, i);
    if (nextLf < i) nextLf = indexOrEnd(scan, LF, i);
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
        const o = ensure(1);
        o[n++] = DOT;
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
  if (!out) return message.length < JOIN_BELOW ? [concat([message, TERMINATOR])] : [message, TERMINATOR];
  copy(run, len);
  const o = ensure(3);
  o.set(TERMINATOR, n);
  n += 3;
  return [o.subarray(0, n)];
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
