/**
 * `npm run bench`: smarthost side by side with the ceiling (smtp-sink, or a STARTTLS sink),
 * Postfix and Haraka, same load, same sink, same run. Prints a table and writes
 * bench/RESULTS.md.
 *
 * BENCH_MESSAGES (default 20000) messages per 20-session run (a fifth of that for 1
 * session). BENCH_ONLY runs some parts only, a comma-separated list of: 2k (plain SMTP,
 * 2 KiB), 100k (plain SMTP, 100 KiB), tls (STARTTLS + AUTH), dkim (signing relays), http
 * (wrk on the API, idle connections), sqld (nodes on a real libSQL server and the Worker: bench/sqld.ts,
 * its own section of RESULTS.md). Unset: all of them. Every server is started on free
 * loopback ports and stopped by PID; nothing leaves the machine.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { DKIM_DOMAIN, makeRsaKey, startHarakaDkim, startPostfixDkim, startSmarthostDkim } from "./dkim-peers.ts";
import { httpLoad, idleConnections, latencyProbe, percentile, smtpSource, tlsSource, WRK, type SourceRun } from "./load.ts";
import { startHaraka, startPostfixRelay, startSink, startSmarthost, type Relay, type Sink } from "./peers.ts";
import { Sampler } from "./proc.ts";
import { f, ratios, table, type Row } from "./report.ts";
import { runSqldPart } from "./sqld.ts";
import { makeCertificate, startHarakaTls, startPostfixTls, startPostfixTlsAuth, startSmarthostTls, startTlsSink, TLS_PASSWORD, TLS_USER, type CertFiles } from "./tls-peers.ts";

const N = Number(process.env.BENCH_MESSAGES ?? 20000);
const PARTS = ["2k", "100k", "tls", "dkim", "http", "sqld"] as const;
type Part = (typeof PARTS)[number];

function partsToRun(): Set<Part> {
  const only = process.env.BENCH_ONLY?.trim();
  if (!only) return new Set(PARTS);
  const asked = only.split(",").map((x) => x.trim().toLowerCase());
  const unknown = asked.filter((x) => !(PARTS as readonly string[]).includes(x));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown part(s) ${unknown.join(", ")}; known: ${PARTS.join(", ")}`);
  return new Set(asked as Part[]);
}

interface Peer {
  name: string;
  /** The relay; null for the ceiling row, where the load goes straight to the sink. */
  start: ((sink: number) => Promise<Relay>) | null;
  /** The sink the relay delivers to (or the load hits, for the ceiling): smtp-sink unless said. */
  sink?: () => Promise<Sink>;
  /** For the TLS client: "user:password" for AUTH PLAIN, or null to skip AUTH. */
  auth?: string | null;
}

interface Scenario {
  label: string;
  size: number;
  sessions: number;
  reuse: boolean;
  messages: number;
  /** smtp-source (plaintext), or bench/tls-load.ts (STARTTLS, AUTH). */
  tls: boolean;
  peers: Peer[];
}

const plainPeers: Peer[] = [
  { name: "smtp-sink (ceiling)", start: null },
  { name: "Postfix", start: (sink) => startPostfixRelay(sink) },
  { name: "Haraka", start: (sink) => startHaraka(sink) },
  { name: "smarthost", start: (sink) => startSmarthost(sink) },
];

const shape = (size: number, sessions: number, reuse: boolean) =>
  `${size >= 1024 ? `${size / 1024} KiB` : `${size} B`}, ${sessions} session${sessions > 1 ? "s" : ""}, ${reuse ? "reused conn" : "new conn/msg"}`;

function plainScenarios(sizes: number[]): Scenario[] {
  const out: Scenario[] = [];
  for (const size of sizes) {
    for (const sessions of [20, 1]) {
      for (const reuse of [false, true]) {
        out.push({ label: shape(size, sessions, reuse), size, sessions, reuse, messages: sessions === 1 ? Math.ceil(N / 5) : N, tls: false, peers: plainPeers });
      }
    }
  }
  return out;
}

function tlsScenario(cert: CertFiles): Scenario {
  const cred = `${TLS_USER}:${TLS_PASSWORD}`;
  return {
    label: `${shape(2048, 20, false)}, STARTTLS + AUTH`,
    size: 2048,
    sessions: 20,
    reuse: false,
    messages: N,
    tls: true,
    peers: [
      { name: "Bun STARTTLS sink (ceiling)", start: null, sink: () => startTlsSink(cert), auth: cred },
      { name: "Postfix", start: startPostfixTlsAuth(cert), auth: cred },
      { name: "Haraka", start: startHarakaTls(cert), auth: cred },
      { name: "smarthost", start: startSmarthostTls(cert), auth: cred },
      // Both on the terms of a client let in by its address (Postfix's mynetworks, smarthost's `network allow`): TLS without AUTH.
      { name: "Postfix (TLS, no AUTH)", start: startPostfixTls(cert), auth: null },
      { name: "smarthost (TLS, no AUTH)", start: startSmarthostTls(cert), auth: null },
    ],
  };
}

function dkimScenario(): Scenario {
  const key = makeRsaKey();
  return {
    label: `${shape(2048, 20, false)}, DKIM-signed`,
    size: 2048,
    sessions: 20,
    reuse: false,
    messages: N,
    tls: false,
    peers: [
      { name: "smtp-sink (ceiling)", start: null },
      { name: "Postfix + OpenDKIM", start: startPostfixDkim(key) },
      { name: "Haraka + dkim plugin", start: startHarakaDkim(key) },
      { name: "smarthost (RSA-2048)", start: startSmarthostDkim("rsa") },
      { name: "smarthost (RSA-2048 + Ed25519)", start: startSmarthostDkim("both") },
    ],
  };
}

async function runOne(s: Scenario, peer: Peer): Promise<Row> {
  const sink = await (peer.sink ?? startSink)();
  let relay: Relay | null = null;
  let sampler: Sampler | null = null;
  try {
    relay = peer.start ? await peer.start(sink.port) : null;
    const port = relay?.port ?? sink.port;
    const pids = relay?.pids.bind(relay);
    sampler = pids ? new Sampler(pids) : null;
    // The TLS client times every message's final "." itself; smtp-source does not, so a plaintext probe runs beside it.
    const probe = relay && !s.tls ? latencyProbe(port, s.size) : null;
    const t0 = performance.now();
    const src: SourceRun = s.tls ? await tlsSource(port, s.messages, s.size, s.sessions, peer.auth ?? null) : await smtpSource(port, s.messages, s.size, s.sessions, s.reuse);
    const latencies = (await probe?.stop()) ?? [];
    const target = s.messages;
    const deadline = Date.now() + 120_000 + s.messages * 20;
    while (sink.delivered() < target && Date.now() < deadline) await Bun.sleep(50);
    const deliveredSeconds = (performance.now() - t0) / 1000;
    const usage = sampler?.stop();
    return {
      scenario: s.label,
      peer: peer.name,
      accepted: s.messages / src.seconds,
      delivered: sink.delivered() >= target ? target / deliveredSeconds : NaN,
      p50: probe ? percentile(latencies, 50) : relay ? src.p50 : NaN,
      p99: probe ? percentile(latencies, 99) : relay ? src.p99 : NaN,
      cpuPer1000: usage ? (usage.cpuSeconds / s.messages) * 1000 : NaN,
      peakRssMb: usage ? usage.peakRss / 1048576 : NaN,
      loadCpuPer1000: (src.cpuSeconds / s.messages) * 1000,
    };
  } finally {
    sampler?.stop();
    await relay?.stop();
    await sink.stop();
  }
}

/** smarthost's HTTP API under wrk (JSON, then raw), and the memory of idle SMTP connections; each on a fresh server. */
async function smarthostAlone(): Promise<string[]> {
  const sink = await startSink();
  const rows: string[] = [];
  try {
    const wrk = `wrk -t ${WRK.threads} -c ${WRK.connections} -d ${WRK.seconds}s`;
    for (const [kind, what] of [
      ["json", "`POST /v1/messages` JSON (from, to, subject, 0.9 KB text + 1 KB html)"],
      ["raw", "`POST /v1/messages/raw` (a 1.9 KB message, base64)"],
    ] as const) {
      process.stderr.write(`HTTP ${kind} … `);
      const server = await startSmarthost(sink.port, { SMARTHOST_DELIVERY: "false" });
      const http = await httpLoad(server.http, server.apiKey, kind).finally(() => server.stop());
      process.stderr.write(`${f(http.rps)} requests/s\n`);
      rows.push(`| HTTP ${what} (${wrk}) | ${f(http.rps)} requests/s, ${http.errors} non-2xx of ${http.requests} |`);
    }
    const forIdle = await startSmarthost(sink.port, { SMARTHOST_DELIVERY: "false" });
    const before = new Sampler(() => forIdle.pids()).stop().peakRss;
    const idle = await idleConnections(forIdle.port, 10_000);
    await Bun.sleep(1000);
    const after = new Sampler(() => forIdle.pids()).stop().peakRss;
    idle.close();
    await forIdle.stop();
    rows.push(`| RSS holding ${idle.greeted} idle SMTP connections | ${f(after / 1048576)} MB (${f(before / 1048576)} MB before them) |`);
  } finally {
    await sink.stop();
  }
  return rows;
}

const NOTES = {
  tls: "TLS row: the load is bench/tls-load.ts (Bun sockets, `upgradeTLS`), a new connection per message with a full TLS 1.3 handshake (no resumption) — EHLO, STARTTLS, EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT; every server has the same self-signed ECDSA P-256 certificate; relays deliver to smtp-sink in plaintext. The ceiling is bench/tls-sink.ts, a Bun server that says yes to everything (smtp-sink has no TLS). Accept p50/p99 here are timed by the TLS client on every message. AUTH PLAIN: Haraka with auth/flat_file, smarthost with a credential from `smarthost credential add`, Postfix through `smtpd_sasl_type = dovecot` to bench/sasl-dovecot.ts — Dovecot's auth protocol over one plaintext password, because Debian's Postfix has no SASL server of its own and neither Dovecot nor saslauthd is installed (its CPU counts with Postfix's). The two “no AUTH” rows take the client by its address instead (Postfix's `mynetworks`, smarthost's `network allow`).",
  dkim: `DKIM row: every relay signs mail from ${DKIM_DOMAIN} (smtp-source's sender) with RSA-2048, relaxed/relaxed — Postfix through OpenDKIM as a milter (its CPU is counted with Postfix's), Haraka with haraka-plugin-dkim (verification off), smarthost with a key from \`smarthost dkim add\` (and a second row with \`--algorithm both\`: RSA + Ed25519, two signatures). \`npm run bench:dkim-check\` sends one message through each and verifies its signatures.`,
};

async function main(): Promise<void> {
  const parts = partsToRun();
  const cert = parts.has("tls") ? await makeCertificate() : null;
  const scenarios: Scenario[] = [
    ...plainScenarios([...(parts.has("2k") ? [2048] : []), ...(parts.has("100k") ? [102400] : [])]),
    ...(cert ? [tlsScenario(cert)] : []),
    ...(parts.has("dkim") ? [dkimScenario()] : []),
  ];
  const rows: Row[] = [];
  try {
    for (const s of scenarios) {
      for (const peer of s.peers) {
        process.stderr.write(`${s.label} — ${peer.name} … `);
        const row = await runOne(s, peer);
        rows.push(row);
        process.stderr.write(`accepted ${f(row.accepted)}/s, delivered ${f(row.delivered)}/s\n`);
      }
    }
  } finally {
    cert?.dispose();
  }
  const alone = parts.has("http") ? await smarthostAlone() : [];

  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${f(totalmem() / 2 ** 30)} GiB, ${new Date().toISOString().slice(0, 10)}`;
  const which = parts.size === PARTS.length ? "`npm run bench`" : `\`BENCH_ONLY=${[...parts].join(",")} npm run bench\``;
  const report = [
    "# Benchmark results",
    "",
    `One run of ${which} on ${machine}. Load: Postfix's smtp-source (TLS row: bench/tls-load.ts); upstream: smtp-sink; ${N} messages per 20-session run, ${Math.ceil(N / 5)} per 1-session run. smarthost is durable (250 only after the libSQL commit and the sync of its WAL to disk) and delivers to the sink while accepting. The last column is the load generator's own CPU: it shares the cores with the servers.`,
    "",
    ...(rows.length > 0 ? [table(rows), "", ...(cert ? [NOTES.tls, ""] : []), ...(parts.has("dkim") ? [NOTES.dkim, ""] : [])] : []),
    ...(rows.length > 0 ? ["## smarthost relative to the peers (same run)", "", ratios(rows), ""] : []),
    ...(alone.length > 0 ? ["## smarthost alone", "", "| measure | result |", "|---|---|", ...alone, ""] : []),
    readFileSync(join(import.meta.dir, "where-the-time-goes.md"), "utf8").trim(),
    "",
  ].join("\n");
  // The sqld part alone rewrites only its own section.
  if (rows.length > 0 || alone.length > 0) {
    writeFileSync(join(import.meta.dir, "RESULTS.md"), report);
    console.log(report);
  }
  if (parts.has("sqld")) console.log(await runSqldPart());
}

await main();
