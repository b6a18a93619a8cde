/**
 * The 8-bit check and the DATA encoder on a 100 KiB message (76-character lines, CRLF) and a 2 KiB one:
 * the per-byte loop, then native line-end scans with a copy of every message
 * (`encodeDataCopying`, the "before"), then src/delivery/encode.ts's parts (a message that
 * needs no change is not copied), alternating rounds in this process, median.
 *
 *   node_modules/.bin/bun bench/micro/encode.ts [iterations=2000] [rounds=5]
 */
import { encodeData, encodeDataParts, hasEightBit } from "../../src/delivery/encode.ts";
import { encodeDataCopying, encodeDataPerByte } from "./encode-reference.ts";

const ITER = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const message = (bytes: number) => {
  const line = `${"abcdefghij".repeat(7)}klmnop\r\n`;
  return new TextEncoder().encode(`From: a@example.com\r\nSubject: s\r\n\r\n${line.repeat(Math.ceil(bytes / line.length))}`);
};

const perByteEightBit = (bytes: Uint8Array) => {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return true;
  return false;
};

function time(fn: (m: Uint8Array) => Uint8Array | Uint8Array[] | boolean, m: Uint8Array): number {
  const t0 = performance.now();
  let sink = 0;
  for (let i = 0; i < ITER; i++) {
    const r = fn(m);
    sink += typeof r === "boolean" ? 1 : r.length;
  }
  if (sink === 0) throw new Error("nothing encoded");
  return ((performance.now() - t0) / ITER) * 1000;
}

for (const [label, m] of [["100 KiB", message(100 * 1024)], ["2 KiB", message(2 * 1024)]] as const) {
  if (Buffer.compare(Buffer.from(encodeData(m)), Buffer.from(encodeDataPerByte(m))) !== 0) throw new Error("outputs differ");
  time(encodeData, m);
  time(encodeDataPerByte, m);
  if (Buffer.compare(Buffer.concat(encodeDataParts(m)), Buffer.from(encodeDataCopying(m))) !== 0) throw new Error("outputs differ");
  time(encodeDataCopying, m);
  time(encodeDataParts, m);
  const a: number[] = [];
  const b: number[] = [];
  const p: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    a.push(time(encodeDataPerByte, m));
    b.push(time(encodeDataCopying, m));
    p.push(time(encodeDataParts, m));
  }
  const c: number[] = [];
  const e: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    c.push(time(perByteEightBit, m));
    e.push(time(hasEightBit, m));
  }
  console.log(`8-bit check ${label}: per-byte ${median(c).toFixed(1)} µs, isAscii ${median(e).toFixed(1)} µs`);
  console.log(`encodeData ${label}: per-byte ${median(a).toFixed(1)} µs, native indexOf + copy (before) ${median(b).toFixed(1)} µs, parts (after) ${median(p).toFixed(1)} µs (median of ${ROUNDS} × ${ITER})`);
}
