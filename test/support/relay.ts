/**
 * Starts the real relay (`smarthost serve` in its own Bun process) on free loopback ports
 * with its own data folder and libSQL file, and runs CLI commands against the same
 * database. Every process started here is stopped by PID.
 */
import { afterAll, beforeAll } from "bun:test";
import { createClient, type Client } from "@libsql/client";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const CLI = join(ROOT, "src", "cli.ts");

export interface Relay {
  dir: string;
  dbUrl: string;
  smtpPort: number;
  smtpsPort: number;
  httpPort: number;
  http: string;
  pid: number;
  logs(): string;
  stop(): Promise<void>;
  /** SIGKILL: no chance to clean up. */
  kill9(): Promise<void>;
}

export function tempDir(prefix = "smarthost-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function baseEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? dir,
    SMARTHOST_DB_URL: `file:${join(dir, "smarthost.db")}`,
    SMARTHOST_DATA_DIR: join(dir, "data"),
    SMARTHOST_SMTP_LISTEN: "127.0.0.1:0",
    SMARTHOST_SMTPS_LISTEN: "127.0.0.1:0",
    SMARTHOST_HTTP_LISTEN: "127.0.0.1:0",
    SMARTHOST_HOSTNAME: "relay.test",
    // No test sends anything off the machine: delivery runs only where a test turns it on
    // with routes and DNS on loopback.
    SMARTHOST_DELIVERY: "false",
    SMARTHOST_DNS_SERVERS: "127.0.0.1:9",
    SMARTHOST_LOG: "info",
    // Never the machine's /etc/smarthost/smarthost.env.
    SMARTHOST_CONFIG: "",
    ...extra,
  };
}

/**
 * Only `serve` and `migrate` make a database (src/runtime/config-file.ts): a test's folder
 * starts empty, so the first other command migrates it first, as an operator would. A
 * failing migrate (a test's bad setting) is left for the command itself to report.
 */
async function migrateFirst(dir: string, args: string[], env: Record<string, string>): Promise<void> {
  if (args[0] === "serve" || args[0] === "migrate" || args[0]?.startsWith("-")) return;
  const url = env.SMARTHOST_DB_URL ?? "";
  if (!url.startsWith("file:") || existsSync(resolve(dir, url.slice("file:".length).split("?")[0]!))) return;
  await Bun.spawn([process.execPath, CLI, "migrate"], { env, cwd: dir, stdout: "ignore", stderr: "ignore" }).exited;
}

export async function cli(dir: string, args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  await migrateFirst(dir, args, baseEnv(dir, extra));
  const proc = Bun.spawn([process.execPath, CLI, ...args], { env: baseEnv(dir, extra), cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Runs a CLI command that must succeed; returns its last line of output. */
export async function cliOk(dir: string, args: string[], extra: Record<string, string> = {}): Promise<string> {
  const r = await cli(dir, args, extra);
  if (r.code !== 0) throw new Error(`smarthost ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim().split("\n").at(-1)!;
}

export function startRelay(dir: string, extra: Record<string, string> = {}): Promise<Relay> {
  return startRelayArgs(dir, ["serve"], extra);
}

/** Starts the relay with other arguments (`serve --egress-only`). */
export async function startRelayArgs(dir: string, args: string[], extra: Record<string, string> = {}): Promise<Relay> {
  const proc = Bun.spawn([process.execPath, CLI, ...args], { env: baseEnv(dir, extra), cwd: dir, stdout: "pipe", stderr: "pipe" });
  let logs = "";
  const decoder = new TextDecoder();
  const signal: { resolve: ((line: Record<string, unknown>) => void) | null } = { resolve: null };
  const ready = new Promise<Record<string, unknown>>((resolve) => (signal.resolve = resolve));
  void (async () => {
    for await (const chunk of proc.stderr) {
      logs += decoder.decode(chunk);
      const line = logs.split("\n").find((l) => l.includes('"event":"listening"'));
      if (line && signal.resolve) {
        signal.resolve(JSON.parse(line));
        signal.resolve = null;
      }
    }
  })();
  void new Response(proc.stdout).text().then((t) => (logs += t));
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`relay did not start:\n${logs}`)), 20_000).unref());
  const exited = proc.exited.then((code) => {
    throw new Error(`relay exited with ${code}:\n${logs}`);
  });
  const info = await Promise.race([ready, timeout, exited]);
  exited.catch(() => {});
  const port = (k: string) => ((info[k] as number[])[0] ?? 0);
  return {
    dir,
    dbUrl: baseEnv(dir, extra).SMARTHOST_DB_URL!,
    smtpPort: port("smtp"),
    smtpsPort: port("smtps"),
    httpPort: port("http"),
    http: `http://127.0.0.1:${port("http")}`,
    pid: proc.pid,
    logs: () => logs,
    async stop() {
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await proc.exited.catch(() => {});
      clearTimeout(t);
    },
    async kill9() {
      proc.kill("SIGKILL");
      await proc.exited.catch(() => {});
    },
  };
}

export interface Tenant {
  account: string;
  username: string;
  password: string;
  apiKey: string;
}

/** An account with an SMTP credential, an API key and example.com as allowed senders. */
export async function addTenant(dir: string, opts: { account?: string; username?: string; limits?: string[]; env?: Record<string, string> } = {}): Promise<Tenant> {
  const account = opts.account ?? "acme";
  const username = opts.username ?? "alice";
  const password = "correct horse battery";
  const env = opts.env ?? {};
  await cliOk(dir, ["account", "add", account, ...(opts.limits ?? [])], env);
  await cliOk(dir, ["credential", "add", account, username, "--password", password], env);
  await cliOk(dir, ["sender", "allow", account, "example.com"], env);
  const apiKey = await cliOk(dir, ["key", "add", account], env);
  return { account, username, password, apiKey };
}

export function openDb(dbUrl: string): Client {
  return createClient({ url: dbUrl });
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface RelayFixture {
  dir: string;
  relay: Relay;
  tenant: Tenant;
}

/**
 * A relay for a whole test file: a temp folder, the "acme" tenant (plus whatever `prepare`
 * adds), the server started before the tests and stopped and removed after them.
 */
export function useRelay(env: Record<string, string> = {}, prepare?: (dir: string) => Promise<void>): RelayFixture {
  const f = {} as RelayFixture;
  beforeAll(async () => {
    f.dir = tempDir();
    f.tenant = await addTenant(f.dir);
    await prepare?.(f.dir);
    f.relay = await startRelay(f.dir, env);
  });
  afterAll(async () => {
    await f.relay?.stop();
    if (f.dir) removeDir(f.dir);
  });
  return f;
}
