/**
 * SMTP AUTH on the Worker under real workerd (`wrangler dev`): the time of one password
 * check as an ingress node sees it (the signed handoff call), with argon2id on the bundled
 * WebAssembly module (now) and in plain JavaScript (before), against the same remote
 * libSQL and the same credential made by the Bun CLI. Alternates the two Workers per round.
 *
 *   node_modules/.bin/bun bench/micro/worker-auth.ts [checks per round=10] [rounds=3]
 *
 * The figure is wall time per check: the argon2id CPU plus the check's database work (the
 * throttle's reserve and finish, the credential lookup) over HTTP to the libSQL server.
 * That part is measured alone with a second credential whose stored hash has minimal
 * argon2 parameters (m=8 KiB, t=1), so "argon2id alone" = check − that baseline.
 * Each check of the real parameters uses its own credential (own salt, so its own stored
 * hash): the gateway's verified-credential cache never answers those. "repeat" is the same
 * credential again, answered by that cache.
 */
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { argon2id } from "hash-wasm";
import { createRemoteHandler } from "../../src/ingress/remote-handler.ts";
import type { SessionInfo } from "../../src/smtp/handler.ts";
import { treeOf } from "../proc.ts";
import { startSqld } from "../../test/support/sqld.ts";
import { freeTcpPort } from "../../test/support/ports.ts";
import { cliOk, removeDir, tempDir } from "../../test/support/relay.ts";

const CHECKS = Number(process.argv[2] ?? 10);
const ROUNDS = Number(process.argv[3] ?? 3);
const ROOT = join(import.meta.dir, "..", "..");
const TOKEN = "bench-shared-token-0123456789abcdefghij";

async function wranglerDev(config: string | null, vars: Record<string, string>) {
  const port = await freeTcpPort();
  const inspector = await freeTcpPort();
  const args = [join(ROOT, "node_modules", ".bin", "wrangler"), "dev", ...(config ? ["--config", config] : []), "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector), "--show-interactive-dev-session=false"];
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const proc = Bun.spawn(args, { cwd: ROOT, env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", CI: "true" }, stdout: "pipe", stderr: "pipe" });
  let logs = "";
  const dec = new TextDecoder();
  void (async () => {
    for await (const c of proc.stdout) logs += dec.decode(c);
  })();
  void (async () => {
    for await (const c of proc.stderr) logs += dec.decode(c);
  })();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && !(await fetch(`${url}/healthz`).then((r) => r.ok, () => false))) await Bun.sleep(200);
  if (Date.now() >= deadline) throw new Error(`wrangler dev did not start:\n${logs}`);
  return {
    url,
    stop: async () => {
      for (const pid of treeOf(proc.pid).reverse()) {
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

const dir = tempDir("smarthost-bench-");
const sqld = await startSqld(dir);
const remote = { SMARTHOST_DB_URL: sqld.url };
await cliOk(dir, ["account", "add", "bench"], remote);
await cliOk(dir, ["credential", "add", "bench", "benchuser", "--password", "bench-password-1"], remote);
// The baseline credential: the same row shape, a hash that costs next to nothing to check.
{
  const db = createClient({ url: sqld.url });
  const account = (await db.execute("SELECT id FROM accounts WHERE name = 'bench'")).rows[0]!.id as string;
  // Credentials made as the CLI makes them (same parameters), one per uncached check.
  for (let i = 0; i < (CHECKS * (ROUNDS + 1)) * 2; i++) {
    const encoded = await argon2id({ password: "bench-password-1", salt: crypto.getRandomValues(new Uint8Array(16)), iterations: 2, memorySize: 19456, parallelism: 1, hashLength: 32, outputType: "encoded" });
    await db.execute({ sql: "INSERT INTO smtp_credentials (id, account_id, username, password_hash, created_at) VALUES (?, ?, ?, ?, 0)", args: [`u${i}`, account, `user${i}`, encoded] });
  }
  const cheap = await argon2id({ password: "bench-password-1", salt: new Uint8Array(16).fill(7), iterations: 1, memorySize: 8, parallelism: 1, hashLength: 32, outputType: "encoded" });
  await db.execute({ sql: "INSERT INTO smtp_credentials (id, account_id, username, password_hash, created_at) VALUES ('cheap', ?, 'cheapuser', ?, 0)", args: [account, cheap] });
  db.close();
}
const vars = { SMARTHOST_DB_URL: sqld.url, SMARTHOST_GATEWAY_TOKEN: TOKEN, SMARTHOST_HOSTNAME: "bench.test" };
const workers = {
  wasm: await wranglerDev(null, vars),
  js: await wranglerDev(join(import.meta.dir, "wrangler-js-argon2.toml"), vars),
};
const session: SessionInfo = { sessionId: "bench", remoteAddress: "127.0.0.1", remotePort: 1, localPort: 25, tls: null, helo: "bench", esmtp: true, principal: null, authenticated: false };
const quiet = () => {};

let nextUser = 0;
async function perCheck(url: string): Promise<{ auth: number; base: number; repeat: number }> {
  const handler = createRemoteHandler(url, TOKEN, quiet);
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  const check = async (username: string, into: number[]) => {
    const t = performance.now();
    const out = await handler.authenticate(session, { mechanism: "PLAIN", authzid: "", username, password: "bench-password-1" });
    into.push(performance.now() - t);
    if (!out.ok) throw new Error(`AUTH refused: ${JSON.stringify(out)}`);
  };
  for (let i = 0; i < CHECKS; i++) {
    await check(`user${nextUser++}`, a);
    await check("cheapuser", b);
    await check("benchuser", c);
  }
  return { auth: median(a), base: median(b), repeat: median(c) };
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

try {
  // Warm both (first request builds the isolate).
  await perCheck(workers.wasm.url);
  await perCheck(workers.js.url);
  const res = { wasm: [] as number[], js: [] as number[], wasmBase: [] as number[], jsBase: [] as number[], wasmRepeat: [] as number[], jsRepeat: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ["wasm", "js"] as const) {
      const m = await perCheck(workers[kind].url);
      res[kind].push(m.auth);
      res[kind === "wasm" ? "wasmBase" : "jsBase"].push(m.base);
      res[kind === "wasm" ? "wasmRepeat" : "jsRepeat"].push(m.repeat);
    }
  }
  const f = (xs: number[]) => `${median(xs).toFixed(1)} ms (rounds ${xs.map((x) => x.toFixed(1)).join("/")})`;
  console.log(`AUTH on the Worker, median per check over ${ROUNDS} rounds of ${CHECKS}:`);
  console.log(`  bundled WebAssembly argon2id: check ${f(res.wasm)}; baseline ${f(res.wasmBase)}; argon2id alone ≈ ${(median(res.wasm) - median(res.wasmBase)).toFixed(1)} ms; repeat (cached) ${f(res.wasmRepeat)}`);
  console.log(`  plain JavaScript argon2id:    check ${f(res.js)}; baseline ${f(res.jsBase)}; argon2id alone ≈ ${(median(res.js) - median(res.jsBase)).toFixed(1)} ms; repeat (cached) ${f(res.jsRepeat)}`);
} finally {
  await workers.wasm.stop();
  await workers.js.stop();
  await sqld.stop();
  removeDir(dir);
}
