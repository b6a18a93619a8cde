/**
 * The relay's CPU per 1 000 messages (accept + deliver) under smtp-source, with smtp-sink
 * upstream: the process's user + system time from /proc over the whole run, until the sink
 * has every message. Pass a second source tree to compare two versions back to back.
 *
 *   node_modules/.bin/bun bench/relay-cpu.ts [size=102400] [messages=3000] [sessions=20] [root…]
 *   BENCH_PROF=/tmp/prof …   also writes a CPU profile (.cpuprofile and .md) there
 *
 * Give the roots alternately and more than once (old new old new …) on a shared machine:
 * the summary is each root's median.
 */
import { join } from "node:path";
import { smtpSource } from "./load.ts";
import { startSink, startSmarthost } from "./peers.ts";
import { Sampler } from "./proc.ts";

const size = Number(process.argv[2] ?? 102_400);
const messages = Number(process.argv[3] ?? 3000);
const sessions = Number(process.argv[4] ?? 20);
const roots = process.argv.slice(5);
if (roots.length === 0) roots.push(join(import.meta.dir, ".."));
const prof = process.env.BENCH_PROF;

const results = new Map<string, number[]>();
for (const root of roots) {
  const sink = await startSink();
  const bunFlags = prof ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${prof}`] : [];
  const relay = await startSmarthost(sink.port, {}, undefined, { root, bunFlags });
  const sampler = new Sampler(() => relay.pids());
  const t0 = performance.now();
  try {
    const src = await smtpSource(relay.port, messages, size, sessions, false);
    const deadline = Date.now() + 120_000;
    while (sink.delivered() < messages && Date.now() < deadline) await Bun.sleep(20);
    const seconds = (performance.now() - t0) / 1000;
    const { cpuSeconds } = sampler.stop();
    results.set(root, [...(results.get(root) ?? []), (cpuSeconds / messages) * 1000]);
    console.log(
      `${root}: ${messages} × ${size} B, ${sessions} sessions: CPU ${((cpuSeconds / messages) * 1000).toFixed(3)} s / 1000 msg, ` +
        `accepted ${(messages / src.seconds).toFixed(0)}/s, delivered ${sink.delivered()} in ${seconds.toFixed(1)} s`,
    );
  } finally {
    sampler.stop();
    await relay.stop();
    await sink.stop();
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [root, xs] of results) {
  console.log(`${root}: median CPU ${median(xs).toFixed(3)} s / 1000 msg over ${xs.length} run(s): ${xs.map((x) => x.toFixed(3)).join(", ")}`);
}
