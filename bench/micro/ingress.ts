/**
 * The ingress data path per message, socket reads to the joined message (trace header
 * first): DATA and BDAT, 100 KiB and 2 KiB messages shaped like smtp-source's (80-octet
 * lines) arriving in 64 KiB reads, as Bun delivers them. "before": each read copied
 * (`new Uint8Array(data)`), runs copied with `slice`, BDAT checked byte by byte, then the
 * join (bench/micro/ingress-reference.ts); "after": the reads kept as views, native line
 * scans, the join the only copy. Alternating rounds in this process, median.
 *
 *   node_modules/.bin/bun bench/micro/ingress.ts [iterations=2000] [rounds=5]
 */
import { ChunkReader } from "../../src/smtp/chunk-reader.ts";
import { DotDecoder } from "../../src/smtp/dot-decoder.ts";
import { ChunkReaderReference, DotDecoderReference } from "./ingress-reference.ts";

const ITER = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const enc = (s: string) => new TextEncoder().encode(s);

const PREFIX = enc("Received: from client.example ([127.0.0.1])\r\n\tby smarthost.test (smarthost) with ESMTP id 0123456789abcdef;\r\n\tSun, 29 Nov 2026 09:53:04 +0000\r\n");

function message(bytes: number): string {
  let s = "From: <bench@example.com>\r\nTo: <rcpt@dest.test>\r\nDate: Sun, 29 Nov 2026 09:53:04 +0000 (UTC)\r\nMessage-Id: <0977.0003.0004@vm>\r\n\r\n";
  for (let i = 1; s.length < bytes; i++) s += `${i}${"X".repeat(79 - String(i).length)}\r\n`;
  return s;
}

const reads = (wire: Uint8Array) => {
  const out: Uint8Array[] = [];
  for (let at = 0; at < wire.length; at += 65536) out.push(wire.slice(at, at + 65536));
  return out;
};

function dataBefore(chunks: Uint8Array[]): number {
  const d = new DotDecoderReference(1 << 30);
  for (const c of chunks) d.feed(new Uint8Array(c));
  return d.message(PREFIX)!.length;
}

function dataAfter(chunks: Uint8Array[]): number {
  const d = new DotDecoder(1 << 30);
  for (const c of chunks) d.feed(c);
  return d.message(PREFIX)!.length;
}

function bdatBefore(chunks: Uint8Array[]): number {
  const r = new ChunkReaderReference(1 << 30);
  r.begin(chunks.reduce((n, c) => n + c.length, 0));
  for (const c of chunks) r.feed(new Uint8Array(c));
  return r.finish(PREFIX)!.length;
}

function bdatAfter(chunks: Uint8Array[]): number {
  const r = new ChunkReader(1 << 30);
  r.begin(chunks.reduce((n, c) => n + c.length, 0));
  for (const c of chunks) r.feed(c);
  return r.finish(PREFIX)!.length;
}

function time(fn: (c: Uint8Array[]) => number, chunks: Uint8Array[]): number {
  const t0 = performance.now();
  let sink = 0;
  for (let i = 0; i < ITER; i++) sink += fn(chunks);
  if (sink === 0) throw new Error("nothing decoded");
  return ((performance.now() - t0) / ITER) * 1000;
}

for (const size of [100 * 1024, 2 * 1024]) {
  const text = message(size);
  const cases = [
    ["DATA", reads(enc(`${text}.\r\n`)), dataBefore, dataAfter],
    ["BDAT", reads(enc(text)), bdatBefore, bdatAfter],
  ] as const;
  for (const [label, chunks, before, after] of cases) {
    if (before(chunks) !== after(chunks)) throw new Error("outputs differ");
    time(before, chunks);
    time(after, chunks);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      a.push(time(before, chunks));
      b.push(time(after, chunks));
    }
    console.log(`${label} ${size / 1024} KiB, reads to joined message: before ${median(a).toFixed(1)} µs, after ${median(b).toFixed(1)} µs (median of ${ROUNDS} × ${ITER})`);
  }
}
