/**
 * DKIM signing throughput, inline vs a pool of signing threads: 2 KiB messages, 20
 * submissions in flight in one process, RSA-2048. Each round runs both paths on the same
 * process one after the other; the median of the rounds is printed.
 *
 *   node_modules/.bin/bun bench/micro/dkim-pool.ts [messages=2000] [rounds=5] [threads=default]
 *
 * "with relay work" adds a fixed 0.3 ms of busy CPU per message on the calling thread
 * (about what accepting and committing a 2 KiB message costs the relay), to show whether
 * signing overlaps it or adds to it.
 */
import { readFileSync } from "node:fs";
import { generateDkimKey, importSigningKey } from "../../src/dkim/keys.ts";
import { prependSignatures, signMessage } from "../../src/dkim/sign.ts";
import type { PoolKey } from "../../src/dkim/sign-jobs.ts";
import { createDkimPool, defaultPoolSize } from "../../src/runtime/dkim-pool.ts";

const N = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 5);
const THREADS = Number(process.argv[4] ?? defaultPoolSize());
const CONCURRENCY = 20;
const RELAY_WORK_MS = 0.3;

const body = "x".repeat(74) + "\r\n";
const text = `From: a@example.com\r\nTo: b@example.net\r\nSubject: bench\r\nDate: Sun, 29 Nov 2026 08:00:00 +0000\r\nMessage-ID: <m@example.com>\r\n\r\n${body.repeat(27)}`;
const raw = new TextEncoder().encode(text);

const gen = await generateDkimKey("rsa");
const cryptoKey = await importSigningKey("rsa", gen.privatePem);
const inlineKeys = [{ domain: "example.com", selector: "s", algorithm: "rsa" as const, key: cryptoKey }];
const poolKeys: PoolKey[] = [{ id: "k1", domain: "example.com", selector: "s", algorithm: "rsa", pem: gen.privatePem }];
const pool = createDkimPool({ size: THREADS });

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

type Sign = () => Promise<Uint8Array>;
const inline: Sign = () => signMessage(raw, inlineKeys, new Date());
const pooled: Sign = async () => prependSignatures(raw, await pool.signatures(raw, poolKeys, new Date()));

/** CPU time of this (the calling) thread in ms, from Linux's per-thread stat (utime + stime, field 14/15). */
const TICK_MS = 10;
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

let lastCpuPerMsg = 0;
let lastProcCpuPerMsg = 0;
async function run(sign: Sign, work: number): Promise<number> {
  let left = N;
  const c0 = mainThreadCpuMs();
  const p0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left > 0) {
        left--;
        const signed = await sign();
        if (signed.length <= raw.length) throw new Error("not signed");
        if (work > 0) busy(work);
      }
    }),
  );
  const rate = (N / (performance.now() - t0)) * 1000;
  lastCpuPerMsg = (mainThreadCpuMs() - c0) / N;
  const p1 = process.cpuUsage(p0);
  lastProcCpuPerMsg = (p1.user + p1.system) / 1000 / N;
  return rate;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Warm both paths (JIT, key import in the threads).
await run(inline, 0);
await run(pooled, 0);
for (const work of [0, RELAY_WORK_MS]) {
  const a: number[] = [];
  const b: number[] = [];
  const ca: number[] = [];
  const cb: number[] = [];
  const pa: number[] = [];
  const pb: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    a.push(await run(inline, work));
    ca.push(lastCpuPerMsg);
    pa.push(lastProcCpuPerMsg);
    b.push(await run(pooled, work));
    cb.push(lastCpuPerMsg);
    pb.push(lastProcCpuPerMsg);
  }
  const label = work > 0 ? `with relay work ${work} ms/msg` : "signing only";
  console.log(`${label}: inline ${median(a).toFixed(0)} msg/s, pool(${THREADS}) ${median(b).toFixed(0)} msg/s (median of ${ROUNDS}, ${N} msgs each; inline ${a.map((x) => x.toFixed(0)).join("/")}, pool ${b.map((x) => x.toFixed(0)).join("/")})`);
  console.log(`  calling-thread CPU per message: inline ${median(ca).toFixed(3)} ms, pool ${median(cb).toFixed(3)} ms; whole process: inline ${median(pa).toFixed(3)} ms, pool ${median(pb).toFixed(3)} ms`);
}
await pool.close();
