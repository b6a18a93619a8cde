/**
 * The Worker row of the sqld part (bench/sqld.ts): the gateway under real workerd
 * (`wrangler dev`) on sqld over loopback (through a 0 ms test/support/delay-proxy.ts, to count
 * its requests), POST /v1/messages from wrk with 16 keep-alive connections, a route `*` to
 * smtp-sink so the Worker delivers what it accepts.
 */
import { createClient } from "@libsql/client";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDelayProxy } from "../test/support/delay-proxy.ts";
import { startSink } from "./peers.ts";
import { treeOf } from "./proc.ts";
import { cliOn, ROOT, secretKey, setUpTenant } from "./sqld-setup.ts";
import { freeTcpPort } from "../test/support/ports.ts";
import { requireTool } from "../test/support/require-tool.ts";
import { startSqld } from "../test/support/sqld.ts";

export interface WorkerRow {
  command: string;
  connections: number;
  seconds: number;
  ok: number;
  non2xx: number;
  socketErrors: number;
  okPerSecond: number;
  meanMs: number;
  p99Ms: number;
  /** Lines of workerd's log saying a request was canceled (its continuations dropped). */
  canceled: number;
  /** Lines saying a request was given up as hung ("will never generate a response"). */
  hung: number;
  /** The first line of either kind, as workerd wrote it. */
  canceledLine: string;
  accepted: number;
  delivered: number;
  requestsPerSubmission: number;
}

const CONNECTIONS = 16;
const SECONDS = Number(process.env.BENCH_SQLD_WORKER_SECONDS ?? 20);

/** `wrangler dev` of ROOT on loopback ports, its state in `dir`; stopped with all its processes. */
async function wranglerDev(dir: string, vars: Record<string, string>): Promise<{ url: string; logs(): string; stop(): Promise<void> }> {
  const port = await freeTcpPort();
  const inspector = await freeTcpPort();
  const args = [join(ROOT, "node_modules", ".bin", "wrangler"), "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector), "--persist-to", join(dir, "wrangler-state"), "--show-interactive-dev-session=false"];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const proc = Bun.spawn(args, {
    cwd: ROOT,
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", CI: "true" },
    stdout: "pipe",
    stderr: "pipe",
  });
  let logs = "";
  const dec = new TextDecoder();
  for (const s of [proc.stdout, proc.stderr]) void (async () => { for await (const c of s) logs += dec.decode(c); })();
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    for (const pid of treeOf(proc.pid).reverse()) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    await proc.exited;
  };
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && proc.exitCode === null) {
    if (logs.includes("Ready on") && (await fetch(`${url}/healthz`).then((r) => r.ok, () => false))) return { url, logs: () => logs, stop };
    await Bun.sleep(200);
  }
  await stop();
  throw new Error(`wrangler dev did not answer /healthz:\n${logs.slice(-3000)}`);
}

const toMs = (n: string, unit: string): number => Number(n) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit] ?? NaN);

/** wrk's summary: requests, non-2xx, socket errors, mean and p99 latency (`--latency`). */
export function parseWrk(out: string): { requests: number; non2xx: number; socketErrors: number; meanMs: number; p99Ms: number } {
  const mean = /Latency\s+([\d.]+)(us|ms|s|m)\b/.exec(out);
  const p99 = /\b99%\s+([\d.]+)(us|ms|s|m)\b/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: Number(/(\d+) requests in/.exec(out)?.[1] ?? 0),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    meanMs: mean ? toMs(mean[1]!, mean[2]!) : NaN,
    p99Ms: p99 ? toMs(p99[1]!, p99[2]!) : NaN,
  };
}

export async function runWorkerRow(): Promise<WorkerRow> {
  const dir = mkdtempSync(join(tmpdir(), "bench-sqld-worker-"));
  const sink = await startSink();
  const sqld = await startSqld(dir);
  const proxy = await startDelayProxy({ port: Number(new URL(sqld.url).port) }, 0);
  let worker: Awaited<ReturnType<typeof wranglerDev>> | null = null;
  try {
    const key = secretKey();
    const apiKey = setUpTenant(cliOn({ PATH: process.env.PATH ?? "", SMARTHOST_DB_URL: sqld.url, SMARTHOST_SECRET_KEY: key }), sink.port);
    worker = await wranglerDev(dir, { SMARTHOST_DB_URL: proxy.url, SMARTHOST_SECRET_KEY: key, SMARTHOST_HOSTNAME: "worker.smarthost.test" });
    const logStart = worker.logs().length;
    const script = join(dir, "post.lua");
    const body = JSON.stringify({ from: "bench@example.com", to: ["rcpt@dest.test"], subject: "bench", text: `${"Your order has shipped and will arrive soon. ".repeat(2)}\n`.repeat(20) });
    writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer ${apiKey}"\n`);
    const args = ["-t", "2", "-c", String(CONNECTIONS), "-d", `${SECONDS}s`, "--timeout", "30s", "--latency"];
    proxy.reset();
    const proc = Bun.spawn([requireTool("wrk"), ...args, "-s", script, `${worker.url}/v1/messages`], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(proc.stdout).text();
    await proc.exited;
    const w = parseWrk(out);
    // Requests wrk cut off at its end may still commit: count again until all are delivered.
    const db = createClient({ url: sqld.url });
    const committed = async () => Number((await db.execute("SELECT count(*) AS n FROM messages")).rows[0]!.n);
    let accepted = await committed();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      await Bun.sleep(500);
      accepted = await committed();
      if (sink.delivered() >= accepted) break;
    }
    db.close();
    // Without the terminal colours wrangler prints even into a pipe.
    const lines = worker.logs().slice(logStart).replace(/\x1b\[[0-9;]*m/g, "").split("\n");
    const canceledLines = lines.filter((l) => /cancel/i.test(l));
    const hungLines = lines.filter((l) => /never generate a response|hung/i.test(l));
    const ok = w.requests - w.non2xx;
    return {
      command: `wrk ${args.join(" ")} -s post.lua URL/v1/messages`,
      connections: CONNECTIONS,
      seconds: SECONDS,
      ok,
      non2xx: w.non2xx,
      socketErrors: w.socketErrors,
      okPerSecond: ok / SECONDS,
      meanMs: w.meanMs,
      p99Ms: w.p99Ms,
      canceled: canceledLines.length,
      hung: hungLines.length,
      canceledLine: (hungLines[0] ?? canceledLines[0] ?? "").trim(),
      accepted,
      delivered: sink.delivered(),
      requestsPerSubmission: proxy.requests() / Math.max(1, accepted),
    };
  } finally {
    await worker?.stop();
    await proxy.stop();
    await sqld.stop();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
