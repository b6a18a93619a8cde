/**
 * A production install: the tree as a clean clone has it, `npm ci --omit=dev` (from npm's
 * cache when it holds the packages), then the README's commands: `npx smarthost migrate`,
 * `account add`, and `npm start` answering SMTP 220 and /healthz. Prints the size of
 * node_modules, the figure the README gives.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { removeDir, tempDir } from "../support/relay.ts";
import { RawSmtp } from "../support/smtp-client.ts";
import { waitFor, withTimeout } from "../support/wait.ts";

const ROOT = join(import.meta.dir, "..", "..");
const dirs: string[] = [];
const procs: { exited: Promise<number>; kill(signal?: NodeJS.Signals): void }[] = [];
afterAll(async () => {
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exited));
  dirs.forEach(removeDir);
});

function sh(cmd: string, cwd: string, env: Record<string, string>): string {
  const r = Bun.spawnSync(["sh", "-c", cmd], { cwd, env });
  if (r.exitCode !== 0) throw new Error(`${cmd}: exit ${r.exitCode}\n${r.stdout.toString()}${r.stderr.toString()}`);
  return r.stdout.toString();
}

test("npm ci --omit=dev gives a working npx smarthost and npm start", async () => {
  const dir = tempDir("smarthost-prod-install-");
  dirs.push(dir);
  // Tracked files and new ones not ignored: the tree as it stands (on a clean clone, the tracked ones).
  const files = Bun.spawnSync(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT }).stdout;
  Bun.spawnSync(["sh", "-c", `tar --null -T - -cf - 2>/dev/null | tar -xf - -C '${dir}'`], { cwd: ROOT, stdin: files });
  expect(existsSync(join(dir, "package-lock.json"))).toBe(true);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? dir,
    SMARTHOST_CONFIG: "",
    SMARTHOST_SMTP_LISTEN: "127.0.0.1:0",
    SMARTHOST_SMTPS_LISTEN: "127.0.0.1:0",
    SMARTHOST_HTTP_LISTEN: "127.0.0.1:0",
    SMARTHOST_HOSTNAME: "relay.test",
    SMARTHOST_DNS_SERVERS: "127.0.0.1:9",
  };
  sh("npm ci --omit=dev --prefer-offline --no-audit --no-fund", dir, env);
  // The development tools stay out (bun, the runtime, is in).
  expect(["wrangler", "deno", "playwright-core", "Haraka", "dependency-cruiser"].filter((p) => existsSync(join(dir, "node_modules", p)))).toEqual([]);
  expect(existsSync(join(dir, "node_modules", "bun"))).toBe(true);
  const size = sh("du -sh node_modules", dir, env).split("\t")[0];
  console.log(`production install (npm ci --omit=dev): node_modules ${size}`);

  expect(sh("npx smarthost migrate", dir, env)).toContain("migrations applied to file:./data/smarthost.db");
  expect(sh("npx smarthost account add acme", dir, env)).toContain("acme");

  const proc = Bun.spawn(["npm", "start"], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
  procs.push(proc);
  let logs = "";
  const decoder = new TextDecoder();
  for (const stream of [proc.stdout, proc.stderr]) void (async () => { for await (const c of stream) logs += decoder.decode(c); })();
  const line = await waitFor("npm start to listen", () => logs.split("\n").find((l) => l.includes('"event":"listening"')) ?? (proc.exitCode !== null ? Promise.reject(new Error(logs)) : undefined), 60_000);
  const { smtp, http } = JSON.parse(line) as { smtp: number[]; http: number[] };

  const session = await RawSmtp.open(smtp[0]!);
  expect((await session.replies(1))[0]).toStartWith("220 relay.test");
  session.write("QUIT\r\n");
  const health = await fetch(`http://127.0.0.1:${http[0]}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: "ok" });

  proc.kill("SIGTERM");
  expect(await withTimeout(proc.exited, 20_000, "npm start to stop")).toBe(0);
}, 300_000);
