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
