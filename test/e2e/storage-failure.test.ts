/**
 * A database that cannot be written (the disk is full) as clients and the operator see
 * it: SMTP gets `451 4.3.0`, HTTP a 503 with the JSON error, the log one line per failure
 * carrying libSQL's own error, and once there is room again the relay accepts at once.
 * The database lives on a small tmpfs filled by a file: a real ENOSPC, which no file mode
 * can imitate for root.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { closeSync, openSync, rmSync, statfsSync, writeSync } from "node:fs";
import { join } from "node:path";
import { cliOk, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { PY_PRELUDE, python } from "../support/python.ts";

let dir: string;
let mnt: string;
let mounted = false;
let relay: Relay;
let tenant: Tenant;
let filler: string;

async function run(cmd: string[]): Promise<void> {
  const p = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed (${code}): ${err}`);
}

/** Writes zeros into `path` until the file system says ENOSPC. */
function fillDisk(path: string): void {
  const fd = openSync(path, "w");
  const chunk = new Uint8Array(64 * 1024);
  try {
    const { bavail, bsize } = statfsSync(mnt);
    let left = Number(bavail) * Number(bsize);
    for (;;) {
      const n = writeSync(fd, chunk, 0, Math.max(1, Math.min(chunk.length, left)));
      left -= n;
      if (left <= 0) left = 512; // keep probing in small writes until the kernel refuses
    }
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
}

beforeAll(async () => {
  dir = tempDir();
  mnt = join(dir, "disk");
  await run(["mkdir", "-p", mnt]);
  await run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt]);
  mounted = true;
  const db = { SMARTHOST_DB_URL: `file:${join(mnt, "smarthost.db")}` };
  tenant = await addTenantOn(db);
  relay = await startRelay(dir, { ...db, SMARTHOST_ALLOW_INSECURE_AUTH: "true" });
  filler = join(mnt, "filler");
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  if (mounted) await run(["umount", mnt]);
  removeDir(dir);
});

/** The tenant on the tmpfs database (the CLI acts on the database the relay will use). */
async function addTenantOn(env: Record<string, string>): Promise<Tenant> {
  const password = "correct horse battery";
  await cliOk(dir, ["account", "add", "disk"], env);
  await cliOk(dir, ["credential", "add", "disk", "diskuser", "--password", password], env);
  await cliOk(dir, ["sender", "allow", "disk", "example.com"], env);
  const apiKey = await cliOk(dir, ["key", "add", "disk"], env);
  // The SMTP client sends from a trusted network: AUTH itself writes (the attempt is
  // reserved before hashing), and what is tested here is the commit of a message.
  await cliOk(dir, ["network", "allow", "disk", "127.0.0.1/32"], env);
  return { account: "disk", username: "diskuser", password, apiKey };
}

// About 600 KiB a message; the ones sent on the full disk are twice that: more than the
// WAL file already holds (checkpoints let the WAL be written again from its start, so a
// message that fits in it needs no new disk space), so their commit must grow a file.
const FIRST_LINES = 8000;
const FULL_DISK_LINES = 16000;
const smtpSend = (lines = FIRST_LINES) =>
  python<[number, string]>(
    `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo()
s.mail('app@example.com')
s.rcpt('bob@dest.test')
body = ''.join('line %06d %s\\r\\n' % (i, 'x' * 64) for i in range(int(sys.argv[4])))
code, text = s.data(('From: app@example.com\\r\\nSubject: big\\r\\n\\r\\n' + body).encode())
s.quit()
out([code, text.decode()])`,
    [relay.smtpPort, tenant.username, tenant.password, lines],
  );

const httpSend = (lines = FIRST_LINES) => {
  const body = Array.from({ length: lines }, (_, i) => `line ${i} ${"y".repeat(64)}`).join("\r\n");
  return fetch(`${relay.http}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${tenant.apiKey}` },
    body: JSON.stringify({ from: "app@example.com", to: ["carol@dest.test"], subject: "big", text: body }),
  });
};

const logLines = () =>
  relay
    .logs()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const mentionsFullDisk = (line: Record<string, unknown>) => /disk is full|SQLITE_FULL/i.test(JSON.stringify(line.error ?? ""));

test("a full disk: 451 4.3.0 over SMTP, 503 over HTTP, one log line each with the cause; accepted again once there is room", async () => {
  expect((await smtpSend())[0]).toBe(250);

  fillDisk(filler);
  const before = logLines().length;
  const [code, text] = await smtpSend(FULL_DISK_LINES);
  expect(code).toBe(451);
  expect(text).toStartWith("4.3.0 ");
  const res = await httpSend(FULL_DISK_LINES);
  expect(res.status).toBe(503);
  expect(res.headers.get("content-type")).toContain("application/json");
  expect(await res.json()).toEqual({ error: { code: "storage", message: "Could not store the message, try again later" } });

  const logged = logLines().slice(before).filter(mentionsFullDisk);
  // The checkpointing thread may meet the full disk too: said once, apart from the requests.
  expect(logged.filter((l) => l.event === "checkpoint_failed").length).toBeLessThanOrEqual(1);
  const failures = logged.filter((l) => l.event !== "checkpoint_failed");
  expect(failures.map((l) => l.event)).toEqual(["gateway_error", "http_error"]);
  for (const line of failures) {
    expect(line.code).toBe("storage");
    const error = line.error as { stack?: string; message: string };
    expect(error.stack).toBeString();
  }

  rmSync(filler);
  const again = await smtpSend();
  expect(again[0]).toBe(250);
  expect((await httpSend()).status).toBe(202);
}, 60_000);
