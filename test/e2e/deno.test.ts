/** The gateway on Deno (from npm): its runtime-neutral tests under `deno test`, and `src/deno.ts` serving the API. */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { cliOk, openDb, removeDir, tempDir } from "../support/relay.ts";
import { freeTcpPort } from "../support/ports.ts";

const ROOT = join(import.meta.dir, "..", "..");
const DENO = join(ROOT, "node_modules", ".bin", "deno");
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

test("deno test passes the runtime-neutral suite", async () => {
  const p = Bun.spawn([DENO, "test", "-A", "--no-check", "test/deno/"], { cwd: ROOT, stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(code).toBe(0);
  expect(`${out}${err}`).toMatch(/ok \| 3 passed \| 0 failed/);
}, 120_000);

test("deno run src/deno.ts serves the gateway on a libSQL file", async () => {
  const dir = tempDir();
  dirs.push(dir);
  await cliOk(dir, ["account", "add", "acme"]);
  await cliOk(dir, ["sender", "allow", "acme", "example.com"]);
  const key = await cliOk(dir, ["key", "add", "acme"]);
  const port = await freeTcpPort();
  const p = Bun.spawn([DENO, "run", "-A", "--no-check", join(ROOT, "src", "deno.ts")], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "", HOME: dir, SMARTHOST_DB_URL: `file:${join(dir, "smarthost.db")}`, SMARTHOST_DATA_DIR: join(dir, "data"), SMARTHOST_HTTP_LISTEN: `127.0.0.1:${port}` },
  });
  try {
    let text = "";
    void (async () => {
      for await (const chunk of p.stderr) text += new TextDecoder().decode(chunk);
    })();
    while (!text.includes('"listening"') && p.exitCode === null) await Bun.sleep(20);
    expect(text).toContain('"runtime":"deno"');
    const res = await fetch(`http://127.0.0.1:${port}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      body: JSON.stringify({ from: "a@example.com", to: ["b@dest.test"], subject: "from deno", text: "hi" }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const db = openDb(`file:${join(dir, "smarthost.db")}`);
    const rows = (await db.execute({ sql: "SELECT source FROM messages WHERE id = ?", args: [id] })).rows;
    db.close();
    expect(rows[0]!.source).toBe("http");
  } finally {
    p.kill();
    await p.exited;
  }
}, 60_000);

function denoGateway(dir: string, listen: string) {
  return Bun.spawn([DENO, "run", "-A", "--no-check", join(ROOT, "src", "deno.ts")], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH: process.env.PATH ?? "", HOME: dir, SMARTHOST_DB_URL: `file:${join(dir, "smarthost.db")}`, SMARTHOST_DATA_DIR: join(dir, "data"), SMARTHOST_HTTP_LISTEN: listen },
  });
}

test("the Deno gateway serves every SMARTHOST_HTTP_LISTEN address, and refuses an empty list", async () => {
  const dir = tempDir();
  dirs.push(dir);
  const [a, b] = [await freeTcpPort(), await freeTcpPort()];
  const p = denoGateway(dir, `127.0.0.1:${a},127.0.0.1:${b}`);
  try {
    let text = "";
    void (async () => {
      for await (const chunk of p.stderr) text += new TextDecoder().decode(chunk);
    })();
    while (!text.includes('"listening"') && p.exitCode === null) await Bun.sleep(20);
    const line = JSON.parse(text.split("\n").find((l) => l.includes('"listening"'))!) as { http: number[] };
    expect(line.http.sort()).toEqual([a, b].sort());
    for (const port of [a, b]) expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  } finally {
    p.kill();
    await p.exited;
  }
  const empty = denoGateway(dir, "");
  const [err, code] = await Promise.all([new Response(empty.stderr).text(), empty.exited]);
  expect(code).toBe(1);
  expect(err).toContain("SMARTHOST_HTTP_LISTEN is empty");
}, 60_000);
