/** What every database of the sqld part (bench/sqld.ts) starts with: the tenant startSmarthost sets up (bench/peers.ts). */
import { join } from "node:path";

/** The tree whose src/ runs: this checkout, or BENCH_SQLD_ROOT (another checkout, to compare). */
export const ROOT = process.env.BENCH_SQLD_ROOT ?? join(import.meta.dir, "..");

/** A random SMARTHOST_SECRET_KEY shared by every node and the CLI of one run. */
export const secretKey = (): string => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");

/** The CLI of `root` on the database of `env`: the last line printed (a key), or throws with stderr. */
export function cliOn(env: Record<string, string>): (args: string[]) => string {
  return (args) => {
    const r = Bun.spawnSync([process.execPath, join(ROOT, "src", "cli.ts"), ...args], { env });
    if (r.exitCode !== 0) throw new Error(`smarthost ${args.join(" ")}: ${r.stderr.toString()}`);
    return r.stdout.toString().trim().split("\n").at(-1)!;
  };
}

/** What startSmarthost sets up (bench/peers.ts), done once for all the nodes (or the Worker) of a row. */
export function setUpTenant(cli: (args: string[]) => string, sinkPort: number): string {
  cli(["migrate"]);
  cli(["account", "add", "bench"]);
  cli(["sender", "allow", "bench", "example.com"]);
  cli(["network", "allow", "bench", "127.0.0.0/8"]);
  cli(["route", "add", "*", `smtp://127.0.0.1:${sinkPort}?tls=none`]);
  return cli(["key", "add", "bench"]);
}
