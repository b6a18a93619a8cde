/** `wrangler dev` (real workerd) for the Workers entry, on loopback ports; stopped with all its processes. */
import { join } from "node:path";
import { treeOf } from "../../bench/proc.ts";
import { freeTcpPort } from "./ports.ts";

const ROOT = join(import.meta.dir, "..", "..");
const TEST_VARS = { SMARTHOST_RETRY_BASE_SECONDS: "1" };

export interface WranglerDev {
  url: string;
  logs(): string;
  stop(): Promise<void>;
}

export async function startWranglerDev(vars: Record<string, string>, env: Record<string, string> = {}): Promise<WranglerDev> {
  const port = await freeTcpPort();
  const inspector = await freeTcpPort();
  const args = [join(ROOT, "node_modules", ".bin", "wrangler"), "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector), "--test-scheduled", "--show-interactive-dev-session=false"];
  // A deferred message falls due again within a test (the Worker's default waits minutes).
  for (const [k, v] of Object.entries({ ...TEST_VARS, ...vars })) args.push("--var", `${k}:${v}`);
  const proc = Bun.spawn(args, {
    cwd: ROOT,
    // No lookups or telemetry off the machine.
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", CI: "true", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let logs = "";
  const dec = new TextDecoder();
  const read = async (s: ReadableStream<Uint8Array>) => {
    for await (const c of s) logs += dec.decode(c);
  };
  void read(proc.stdout);
  void read(proc.stderr);
  const deadline = Date.now() + 60_000;
  while (!logs.includes("Ready on") && Date.now() < deadline && proc.exitCode === null) await Bun.sleep(100);
  if (!logs.includes("Ready on")) throw new Error(`wrangler dev did not start:\n${logs}`);
  // "Ready" can come before the Worker answers: wait for its health check.
  const url = `http://127.0.0.1:${port}`;
  let healthy = false;
  for (let i = 0; i < 100 && !healthy; i++) {
    healthy = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (!healthy) await Bun.sleep(100);
  }
  if (!healthy) throw new Error(`the Worker does not answer /healthz:\n${logs}`);
  return {
    url,
    logs: () => logs,
    async stop() {
      const pids = treeOf(proc.pid).reverse();
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      await proc.exited;
    },
  };
}
