/**
 * How sqld answers write batches that race for its lock: N writers send back-to-back
 * batches (six 2.5 KB inserts each, BEGIN IMMEDIATE … COMMIT) for S seconds on loopback;
 * prints batches/s, latency, SQLITE_BUSY answers and requests left unanswered for 10 s.
 * The figures behind the Workers' write width (src/db/group-commit.ts, WriteGate).
 *
 *   bun bench/sqld-race.ts [SECONDS=40] [WRITERS=1,2,3,4,16]
 */
import { createClient } from "@libsql/client";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSqld } from "../test/support/sqld.ts";

const SECONDS = Number(process.argv[2] ?? 40);
const WRITERS = (process.argv[3] ?? "1,2,3,4,16").split(",").map(Number);
const UNANSWERED_MS = 10_000;

async function race(writers: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "bench-sqld-race-"));
  const sqld = await startSqld(dir);
  const client = createClient({ url: sqld.url, concurrency: Infinity, fetch: (input: Request | string | URL, init?: RequestInit) => fetch(input, { ...init, signal: AbortSignal.timeout(UNANSWERED_MS) }) });
  try {
    await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    let ok = 0;
    let busy = 0;
    let unanswered = 0;
    const latencies: number[] = [];
    const end = Date.now() + SECONDS * 1000;
    const batch = Array.from({ length: 6 }, () => ({ sql: "INSERT INTO t (v) VALUES (?)", args: ["x".repeat(2500)] }));
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (Date.now() < end) {
          const t = performance.now();
          try {
            await client.batch(batch, "write");
            ok++;
            latencies.push(performance.now() - t);
          } catch (err) {
            const e = err as { code?: unknown; name?: unknown };
            if (e.code === "SQLITE_BUSY") busy++;
            else if (e.name === "TimeoutError" || e.code === 23) unanswered++;
            else throw err;
          }
        }
      }),
    );
    latencies.sort((a, b) => a - b);
    const at = (q: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!.toFixed(0) : "-");
    return `| ${writers} | ${(ok / SECONDS).toFixed(0)} | ${at(0.5)} | ${at(0.99)} | ${busy} | ${unanswered} |`;
  } finally {
    client.close();
    await sqld.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`sqld, write batches racing for ${SECONDS} s on loopback`);
console.log("| writers | batches/s | p50 ms | p99 ms | SQLITE_BUSY | unanswered for 10 s |");
console.log("|---|---|---|---|---|---|");
for (const n of WRITERS) console.log(await race(n));
