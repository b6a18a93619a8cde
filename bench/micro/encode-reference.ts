/**
 * encodeData as it was before native scans (a per-byte loop to find each line end): the
 * reference bench/micro/encode.ts measures against and test/unit/delivery compares with.
 */
const MAX_LINE = 998;
const CR = 13;
const LF = 10;
const DOT = 46;

export function encodeDataPerByte(message: Uint8Array): Uint8Array {
  let out = new Uint8Array(message.length + (message.length >> 6) + 16);
  let n = 0;
  const ensure = (extra: number) => {
    if (n + extra <= out.length) return;
    const bigger = new Uint8Array(Math.max(out.length * 2, n + extra));
    bigger.set(out.subarray(0, n));
    out = bigger;
  };
  const copy = (from: number, to: number) => {
    ensure(to - from);
    out.set(message.subarray(from, to), n);
    n += to - from;
  };
  let i = 0;
  const len = message.length;
  while (i < len) {
    let end = i;
    while (end < len && message[end] !== CR && message[end] !== LF) end++;
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
      ensure(2);
      out[n++] = CR;
      out[n++] = LF;
      if (at >= end) break;
    }
    if (end < len && message[end] === CR && message[end + 1] === LF) end++;
    i = end + 1;
  }
  ensure(3);
  out[n++] = DOT;
  out[n++] = CR;
  out[n++] = LF;
  return out.subarray(0, n);
}

/**
 * encodeData as it was before the parts (native `indexOf` on the Uint8Array, every
 * message copied into a new buffer): the "before" of bench/micro/encode.ts.
 */
const indexOrEndU8 = (bytes: Uint8Array, byte: number, from: number): number => {
  const at = bytes.indexOf(byte, from);
  return at < 0 ? bytes.length : at;
};

export function encodeDataCopying(message: Uint8Array): Uint8Array {
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
    if (nextCr < i) nextCr = indexOrEndU8(message, CR, i);
    if (nextLf < i) nextLf = indexOrEndU8(message, LF, i);
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
