/** The single binary: built with `npm run build:binary`, copied alone into an empty folder, it runs the CLI and serve. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { removeDir, tempDir } from "../support/relay.ts";
import { PY_PRELUDE, python } from "../support/python.ts";

const ROOT = join(import.meta.dir, "..", "..");
let dir: string;
let bin: string;

beforeAll(async () => {
  const build = Bun.spawn([process.execPath, join(ROOT, "scripts", "build-binary.ts")], { stdout: "pipe", stderr: "pipe" });
  if ((await build.exited) !== 0) throw new Error(`build failed: ${await new Response(build.stderr).text()}`);
  dir = tempDir("smarthost-binary-");
  bin = join(dir, "smarthost");
  copyFileSync(join(ROOT, "dist", "smarthost"), bin);
  Bun.spawnSync(["chmod", "+x", bin]);
}, 120_000);
afterAll(() => removeDir(dir));

const env = () => ({ PATH: "/usr/bin:/bin", HOME: dir, SMARTHOST_DB_URL: "file:./smarthost.db", SMARTHOST_SMTP_LISTEN: "127.0.0.1:0", SMARTHOST_SMTPS_LISTEN: "127.0.0.1:0", SMARTHOST_HTTP_LISTEN: "127.0.0.1:0", SMARTHOST_HOSTNAME: "binary.test", SMARTHOST_DELIVERY: "false" });

function run(args: string[]): string {
  const r = Bun.spawnSync([bin, ...args], { cwd: dir, env: env() });
  if (r.exitCode !== 0) throw new Error(`${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim().split("\n").at(-1)!;
}

test("runs the commands and serve from an empty folder, with migrations and the libSQL addon inside", async () => {
  const size = statSync(bin).size;
  run(["migrate"]); // only serve and migrate make a database
  run(["account", "add", "acme"]);
  const password = run(["credential", "add", "acme", "app"]);
  run(["sender", "allow", "acme", "example.com"]);
  const key = run(["key", "add", "acme"]);
  const t0 = performance.now();
  const proc = Bun.spawn([bin, "serve"], { cwd: dir, env: env(), stdout: "ignore", stderr: "pipe" });
  let text = "";
  // Keep reading the server's log for as long as it runs.
  void (async () => {
    for await (const chunk of proc.stderr) text += new TextDecoder().decode(chunk);
  })();
  while (!text.includes('"event":"listening"') && proc.exitCode === null) await Bun.sleep(20);
  const startup = performance.now() - t0;
  const info = JSON.parse(text.split("\n").find((l) => l.includes('"listening"'))!) as { smtp: number[]; smtps: number[]; http: number[] };
  try {
    const reply = await python<string>(
      `${PY_PRELUDE}
s = smtplib.SMTP_SSL('127.0.0.1', int(sys.argv[1]), context=ctx)
s.login('app', sys.argv[2])
s.sendmail('app@example.com', ['x@dest.test'], 'From: app@example.com\\r\\nSubject: from the binary\\r\\n\\r\\nhi\\r\\n')
out('ok')`,
      [info.smtps[0]!, password],
    );
    expect(reply).toBe("ok");
    const res = await fetch(`http://127.0.0.1:${info.http[0]}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      body: JSON.stringify({ from: "app@example.com", to: ["y@dest.test"], subject: "json", text: "built by the binary" }),
    });
    expect(res.status).toBe(202);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
  expect(run(["queue"])).toBe("2 recipients waiting: 2 queued");
  console.log(`binary: ${(size / 1048576).toFixed(1)} MiB, serve listening after ${startup.toFixed(0)} ms (first start, certificate made)`);
}, 60_000);
