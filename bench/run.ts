/**
 * `npm run bench`: smarthost side by side with smtp-sink (the ceiling), Postfix and Haraka,
 * same load, same sink, same run. Prints a table and writes bench/RESULTS.md.
 *
 * BENCH_MESSAGES (default 20000) messages per 20-session run (a fifth of that for 1
 * session); BENCH_ONLY=2k limits the runs to 2 KiB messages. Every server is started on
 * free loopback ports and stopped by PID; nothing leaves the machine.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { httpLoad, idleConnections, latencyProbe, percentile, smtpSource } from "./load.ts";
import { startHaraka, startPostfixRelay, startSink, startSmarthost, type Relay } from "./peers.ts";
import { Sampler } from "./proc.ts";

const N = Number(process.env.BENCH_MESSAGES ?? 20000);
const ONLY_2K = process.env.BENCH_ONLY === "2k";

interface Scenario {
  size: number;
  sessions: number;
  reuse: boolean;
  messages: number;
}

interface Row {
  scenario: string;
  peer: string;
  accepted: number;
  delivered: number;
  p50: number;
  p99: number;
  cpuPer1000: number;
  peakRssMb: number;
}

const peers: { name: string; start: ((sink: number) => Promise<Relay>) | null }[] = [
  { name: "smtp-sink (ceiling)", start: null },
  { name: "Postfix", start: startPostfixRelay },
  { name: "Haraka", start: startHaraka },
  { name: "smarthost", start: (sink) => startSmarthost(sink) },
];

const label = (s: Scenario) => `${s.size >= 1024 ? `${s.size / 1024} KiB` : `${s.size} B`}, ${s.sessions} session${s.sessions > 1 ? "s" : ""}, ${s.reuse ? "reused conn" : "new conn/msg"}`;

async function runOne(s: Scenario, peer: (typeof peers)[number]): Promise<Row> {
  const sink = await startSink();
  const relay = peer.start ? await peer.start(sink.port) : null;
  const port = relay?.port ?? sink.port;
  const sampler = relay ? new Sampler(() => relay.pids()) : null;
  const probe = relay ? latencyProbe(port, s.size) : null;
  const t0 = performance.now();
  let row: Row;
  try {
    const src = await smtpSource(port, s.messages, s.size, s.sessions, s.reuse);
    const latencies = (await probe?.stop()) ?? [];
    const target = s.messages;
    const deadline = Date.now() + 120_000 + s.messages * 20;
    while (sink.delivered() < target && Date.now() < deadline) await Bun.sleep(50);
    const deliveredSeconds = (performance.now() - t0) / 1000;
    const usage = sampler?.stop();
    row = {
      scenario: label(s),
      peer: peer.name,
      accepted: s.messages / src.seconds,
      delivered: sink.delivered() >= target ? target / deliveredSeconds : NaN,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpuPer1000: usage ? (usage.cpuSeconds / s.messages) * 1000 : NaN,
      peakRssMb: usage ? usage.peakRss / 1048576 : NaN,
    };
  } finally {
    sampler?.stop();
    await relay?.stop();
    await sink.stop();
  }
  return row;
}

const f = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : "–");

function table(rows: Row[]): string {
  const head = "| scenario | server | accepted msg/s | delivered msg/s | accept p50 ms | accept p99 ms | CPU s / 1000 msg | peak RSS MB |\n|---|---|---:|---:|---:|---:|---:|---:|";
  const body = rows.map((r) => `| ${r.scenario} | ${r.peer} | ${f(r.accepted)} | ${f(r.delivered)} | ${f(r.p50, 1)} | ${f(r.p99, 1)} | ${f(r.cpuPer1000, 2)} | ${f(r.peakRssMb)} |`);
  return [head, ...body].join("\n");
}

function ratios(rows: Row[]): string {
  const out = ["| scenario | accepted ÷ Postfix | delivered ÷ Postfix | accepted ÷ Haraka | delivered ÷ Haraka |", "|---|---:|---:|---:|---:|"];
  for (const scenario of [...new Set(rows.map((r) => r.scenario))]) {
    const get = (p: string) => rows.find((r) => r.scenario === scenario && r.peer === p);
    const sh = get("smarthost");
    const pf = get("Postfix");
    const hk = get("Haraka");
    if (!sh) continue;
    out.push(`| ${scenario} | ${f(sh.accepted / (pf?.accepted ?? NaN), 1)}× | ${f(sh.delivered / (pf?.delivered ?? NaN), 1)}× | ${f(sh.accepted / (hk?.accepted ?? NaN), 1)}× | ${f(sh.delivered / (hk?.delivered ?? NaN), 1)}× |`);
  }
  return out.join("\n");
}

async function main(): Promise<void> {
  const scenarios: Scenario[] = [];
  for (const size of ONLY_2K ? [2048] : [2048, 102400]) {
    for (const sessions of [20, 1]) {
      for (const reuse of [false, true]) scenarios.push({ size, sessions, reuse, messages: sessions === 1 ? Math.ceil(N / 5) : N });
    }
  }
  const rows: Row[] = [];
  for (const s of scenarios) {
    for (const peer of peers) {
      process.stderr.write(`${label(s)} — ${peer.name} … `);
      const row = await runOne(s, peer);
      rows.push(row);
      process.stderr.write(`accepted ${f(row.accepted)}/s, delivered ${f(row.delivered)}/s\n`);
    }
  }

  // HTTP submissions and idle connections: smarthost alone, each on a fresh server.
  const sink = await startSink();
  const forHttp = await startSmarthost(sink.port, { SMARTHOST_DELIVERY: "false" });
  const http = await httpLoad(forHttp.http, forHttp.apiKey, 10, 64);
  await forHttp.stop();
  const forIdle = await startSmarthost(sink.port, { SMARTHOST_DELIVERY: "false" });
  const before = new Sampler(() => forIdle.pids()).stop().peakRss;
  const idle = await idleConnections(forIdle.port, 10_000);
  await Bun.sleep(1000);
  const after = new Sampler(() => forIdle.pids()).stop().peakRss;
  idle.close();
  await forIdle.stop();
  await sink.stop();

  const extra = [
    `| HTTP \`POST /v1/messages\` (wrk, 64 connections, 10 s) | ${f(http.rps)} requests/s, ${http.errors} non-2xx of ${http.requests} |`,
    `| RSS holding ${idle.greeted} idle SMTP connections | ${f(after / 1048576)} MB (${f(before / 1048576)} MB before them) |`,
  ];
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${f(totalmem() / 2 ** 30)} GiB, ${new Date().toISOString().slice(0, 10)}`;
  const report = [
    "# Benchmark results",
    "",
    `One run of \`npm run bench\` on ${machine}. Load: Postfix's smtp-source; upstream: smtp-sink; ${N} messages per 20-session run, ${Math.ceil(N / 5)} per 1-session run. smarthost is durable (250 only after the libSQL commit, synchronous=FULL) and delivers to the sink while accepting.`,
    "",
    table(rows),
    "",
    "## smarthost relative to the peers (same run)",
    "",
    ratios(rows),
    "",
    "## smarthost alone",
    "",
    "| measure | result |",
    "|---|---|",
    ...extra,
    "",
    readFileSync(join(import.meta.dir, "where-the-time-goes.md"), "utf8").trim(),
    "",
  ].join("\n");
  writeFileSync(join(import.meta.dir, "RESULTS.md"), report);
  console.log(report);
}

await main();
