/**
 * One scenario against smarthost alone, for working on the relay between full runs:
 * `bun bench/quick.ts SIZE SESSIONS REUSE(0|1) MESSAGES [--profile]`. Prints accepted and
 * delivered msg/s and the relay's CPU per 1000 messages.
 */
import { smtpSource } from "./load.ts";
import { startSink, startSmarthost } from "./peers.ts";
import { Sampler } from "./proc.ts";

const [size = "2048", sessions = "20", reuse = "0", messages = "6000"] = process.argv.slice(2);
const n = Number(messages);
const sink = await startSink();
const relay = await startSmarthost(sink.port, process.env.BENCH_ENV ? JSON.parse(process.env.BENCH_ENV) : {});
const sampler = new Sampler(() => relay.pids());
const t0 = performance.now();
try {
  const src = await smtpSource(relay.port, n, Number(size), Number(sessions), reuse === "1");
  const deadline = Date.now() + 120_000;
  while (sink.delivered() < n && Date.now() < deadline) await Bun.sleep(20);
  const usage = sampler.stop();
  const delivered = (performance.now() - t0) / 1000;
  console.log(`${size} B × ${sessions} ${reuse === "1" ? "reused" : "new"}: accepted ${(n / src.seconds).toFixed(0)}/s, delivered ${(sink.delivered() / delivered).toFixed(0)}/s (${sink.delivered()}/${n}), CPU ${((usage.cpuSeconds / n) * 1000).toFixed(2)} s/1000, RSS ${(usage.peakRss / 1048576).toFixed(0)} MB`);
} finally {
  await relay.stop();
  await sink.stop();
}
