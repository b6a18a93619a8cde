/**
 * The process a user starts is the one that stops: SIGTERM to `npm start` or to
 * `node bin/smarthost serve` (not to a bun child found by hand) closes open sessions with
 * 421 4.3.2, frees the ports, exits 0 and leaves no bun behind. Also what start-up says
 * (where things are) and what / and /dashboard answer on a node without an admin token.
 */
import { afterAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { baseEnv, removeDir, tempDir } from "../support/relay.ts";
import { RawSmtp } from "../support/smtp-client.ts";
import { waitFor, withTimeout } from "../support/wait.ts";

const ROOT = join(import.meta.dir, "..", "..");
const dirs: string[] = [];
const started: number[] = [];
afterAll(() => {
  for (const pid of started) if (alive(pid)) process.kill(pid, "SIGKILL");
  for (const d of dirs) removeDir(d);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie has exited: only its parent's wait is missing.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** Every process below `pid` (children, their children …), from /proc. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) (out.push(child), walk(child));
  };
  walk(pid);
  return out;
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
    s.on("error", () => resolve(false));
  });

async function startAs(argv: string[], extra: Record<string, string> = {}) {
  const dir = tempDir("smarthost-stop-");
  dirs.push(dir);
  const proc = Bun.spawn(argv, { cwd: ROOT, env: baseEnv(dir, { SMARTHOST_DELIVERY: "true", ...extra }), stdout: "pipe", stderr: "pipe" });
  started.push(proc.pid);
  let logs = "";
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of proc.stderr) logs += decoder.decode(chunk);
  })();
  void new Response(proc.stdout).text().then((t) => (logs += t));
  const line = (event: string) => logs.split("\n").find((l) => l.includes(`"event":"${event}"`));
  const listening = JSON.parse(await waitFor(`${argv.join(" ")} to listen`, () => line("listening") ?? (proc.exitCode !== null ? Promise.reject(new Error(logs)) : undefined), 30_000)) as Record<string, number[]>;
  return { dir, proc, logs: () => logs, line, smtp: listening.smtp![0]!, http: listening.http![0]! };
}

async function stopsOnSigterm(argv: string[]) {
  const r = await startAs(argv);
  const below = descendants(r.proc.pid);
  started.push(...below);
  expect(below.length).toBeGreaterThan(0); // bun runs under npm / node
  const session = await RawSmtp.open(r.smtp);
  expect((await session.replies(1))[0]).toStartWith("220");
  session.write("EHLO client.test\r\n");
  expect((await session.replies(1))[0]).toStartWith("250");

  process.kill(r.proc.pid, "SIGTERM");
  expect((await session.replies(1, 15_000))[0]).toStartWith("421 4.3.2");
  expect(await withTimeout(r.proc.exited, 20_000, "the started process to exit")).toBe(0);
  await waitFor("the ports to close", async () => !(await portOpen(r.smtp)) && !(await portOpen(r.http)));
  await waitFor("no process left below it", () => below.every((pid) => !alive(pid)));
  const stopped = JSON.parse(r.line("stopped")!) as Record<string, unknown>;
  expect(stopped.signal).toBe("SIGTERM");
}

test("SIGTERM to `npm start` stops the relay: 421 4.3.2 to an open session, ports closed, exit 0, no bun left", async () => {
  await stopsOnSigterm(["npm", "start"]);
}, 90_000);

test("SIGTERM to `node bin/smarthost serve` stops the relay the same way", async () => {
  await stopsOnSigterm(["node", join(ROOT, "bin", "smarthost"), "serve"]);
}, 90_000);

test("start-up names the database, data folder, docs and how to turn the dashboard on; / and /dashboard answer with hints", async () => {
  const r = await startAs([process.execPath, join(ROOT, "src", "cli.ts"), "serve"]);
  try {
    const where = JSON.parse(await waitFor("the started line", () => r.line("started"))) as Record<string, unknown>;
    expect(where).toMatchObject({
      database: join(r.dir, "smarthost.db"),
      data_dir: join(r.dir, "data"),
      docs: `http://127.0.0.1:${r.http}/docs`,
      dashboard: null,
    });
    expect(String(where.dashboard_off)).toContain("SMARTHOST_ADMIN_TOKEN");

    const base = `http://127.0.0.1:${r.http}`;
    const home = await fetch(`${base}/`);
    expect(home.status).toBe(200);
    expect(await home.json()).toMatchObject({ docs: "/docs", dashboard: null, dashboard_hint: expect.stringContaining("SMARTHOST_ADMIN_TOKEN") });
    const homePage = await fetch(`${base}/`, { headers: { accept: "text/html" } });
    expect(homePage.headers.get("content-type")).toContain("text/html");
    expect(await homePage.text()).toContain('href="/docs"');

    const off = await fetch(`${base}/dashboard`);
    expect(off.status).toBe(404);
    const body = (await off.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("dashboard_off");
    expect(body.error.message).toContain("SMARTHOST_ADMIN_TOKEN");
    const offPage = await fetch(`${base}/dashboard/messages`, { headers: { accept: "text/html" } });
    expect(offPage.status).toBe(404);
    expect(await offPage.text()).toContain("SMARTHOST_ADMIN_TOKEN");
    // Everything else keeps the API's JSON 404.
    expect(await (await fetch(`${base}/v1/nothing`)).json()).toEqual({ error: { code: "not_found", message: "No such route" } });
  } finally {
    r.proc.kill("SIGTERM");
    await r.proc.exited;
  }
}, 90_000);
