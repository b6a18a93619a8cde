/**
 * The gateway's header scans per message: the hop count and header size check
 * (src/mime/trace-limits.ts) and the idempotency-key lookup (src/mime/headers.ts), before
 * (a per-byte loop to the end of the header block, bench/micro/headers-reference.ts) and
 * after (a native search). A 100 KiB and a 2 KiB message with a smtp-source header, and the
 * worst case the limit allows: a 100 KiB header block. Also what a DSN returns of the
 * message (src/delivery/returned.ts, RET=FULL reads it whole). Alternating rounds, median.
 *
 *   node_modules/.bin/bun bench/micro/headers.ts [iterations=5000] [rounds=5]
 */
import { headerValues } from "../../src/mime/headers.ts";
import { traceProblem } from "../../src/mime/trace-limits.ts";
import { headerValuesReference, traceProblemReference } from "./headers-reference.ts";
import { returnedContent } from "../../src/delivery/returned.ts";
import { returnedContentReference } from "./returned-reference.ts";

const ITER = Number(process.argv[2] ?? 5000);
const ROUNDS = Number(process.argv[3] ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const enc = (s: string) => new TextEncoder().encode(s);

const HEADER =
  "Received: from client.example ([127.0.0.1])\r\n\tby smarthost.test (smarthost) with ESMTP id 0123456789abcdef;\r\n\tSun, 29 Nov 2026 09:53:04 +0000\r\n" +
  "From: <bench@example.com>\r\nTo: <rcpt@dest.test>\r\nDate: Sun, 29 Nov 2026 09:53:04 +0000 (UTC)\r\nMessage-Id: <0977.0003.0004@vm>\r\n";
const body = (bytes: number) => `${"X".repeat(78)}\r\n`.repeat(Math.ceil(bytes / 80));

const messages: [string, Uint8Array][] = [
  ["100 KiB", enc(`${HEADER}\r\n${body(100 * 1024)}`)],
  ["2 KiB", enc(`${HEADER}\r\n${body(2 * 1024)}`)],
  ["100 KiB header block", enc(`${HEADER}${`X-Filler: ${"x".repeat(88)}\r\n`.repeat(1000)}\r\n${body(1024)}`)],
];

function time(fn: (m: Uint8Array) => unknown, m: Uint8Array): number {
  const t0 = performance.now();
  for (let i = 0; i < ITER; i++) fn(m);
  return ((performance.now() - t0) / ITER) * 1000;
}

const pairs = [
  ["traceProblem", traceProblemReference, traceProblem],
  ["headerValues", (m: Uint8Array) => headerValuesReference(m, "Smarthost-Idempotency-Key"), (m: Uint8Array) => headerValues(m, "Smarthost-Idempotency-Key")],
  ["DSN returned content, RET=FULL", (m: Uint8Array) => returnedContentReference(m, "FULL")?.kind, (m: Uint8Array) => returnedContent(m, "FULL")?.kind],
  ["DSN returned content, headers", (m: Uint8Array) => returnedContentReference(m, "HDRS")?.bytes.length, (m: Uint8Array) => returnedContent(m, "HDRS")?.bytes.length],
] as const;

for (const [label, m] of messages) {
  for (const [name, before, after] of pairs) {
    if (JSON.stringify(before(m)) !== JSON.stringify(after(m))) throw new Error(`${name} differs`);
    time(before, m);
    time(after, m);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      a.push(time(before, m));
      b.push(time(after, m));
    }
    console.log(`${name} ${label}: before ${median(a).toFixed(2)} µs, after ${median(b).toFixed(2)} µs (median of ${ROUNDS} × ${ITER})`);
  }
}
