/**
 * A node whose shared database (sqld) goes away refuses mail — SMTP 4xx with an enhanced
 * code, HTTP 5xx JSON — and never acknowledges what it could not commit; when the server
 * is back on the same port and data, the node accepts again without a restart.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { addTenant, cliOk, openDb, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { PY_PRELUDE, python } from "../support/python.ts";
import { startSharedDb, type SharedDb } from "../support/shared-db.ts";
import { RawSmtp } from "../support/smtp-client.ts";
import { waitFor, withTimeout } from "../support/wait.ts";

const dir = tempDir();
let shared: SharedDb;
let relay: Relay;
let tenant: Tenant;

beforeAll(async () => {
  shared = await startSharedDb(dir);
  tenant = await addTenant(dir, { env: shared.env });
  // SMTP clients on loopback send as the account without AUTH.
  await cliOk(dir, ["network", "allow", tenant.account, "127.0.0.1/32"], shared.env);
  relay = await startRelay(dir, shared.env);
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  await shared?.sqld.stop();
  removeDir(dir);
});

/** One SMTP transaction with Python's smtplib: each step's reply, up to the first refusal. */
const smtpSend = (subject: string) =>
  python<[string, number, string][]>(
    `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=60)
s.ehlo()
steps = []
for name, call in (('mail', lambda: s.mail('app@example.com')), ('rcpt', lambda: s.rcpt('bob@dest.test')), ('data', lambda: s.data(('From: app@example.com\\r\\nSubject: ' + sys.argv[2] + '\\r\\n\\r\\nhello\\r\\n').encode()))):
    code, text = call()
    steps.append([name, code, text.decode()])
    if code >= 400: break
try:
    s.quit()
except Exception:
    pass
out(steps)`,
    [relay.smtpPort, subject],
  );

const httpSend = (subject: string) =>
  fetch(`${relay.http}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${tenant.apiKey}` },
    body: JSON.stringify({ from: "app@example.com", to: ["carol@dest.test"], subject, text: "hello" }),
  });

const stored = async (subject: string) => {
  const db = openDb(shared.url);
  try {
    return Number((await db.execute({ sql: "SELECT count(*) AS n FROM messages WHERE instr(CAST(raw AS TEXT), ?) > 0", args: [`Subject: ${subject}\r\n`] })).rows[0]!.n);
  } finally {
    db.close();
  }
};

/** A refusal as the contract has it: a 4xx reply with an enhanced status code, never a 2xx at the end of DATA. */
function expectRefused(steps: [string, number, string][]): void {
  const last = steps.at(-1)!;
  expect(last[1]).toBeGreaterThanOrEqual(400);
  expect(last[1]).toBeLessThan(500);
  expect(last[2]).toMatch(/^4\.\d{1,3}\.\d{1,3} /);
}

async function expectHttpRefused(res: Response): Promise<void> {
  expect(res.status).toBeGreaterThanOrEqual(500);
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBeString();
  expect(body.error.message).toBeString();
}

/** A session that said MAIL and RCPT while the database answered. */
async function openTransaction(): Promise<RawSmtp> {
  const c = await RawSmtp.open(relay.smtpPort);
  await c.replies(1);
  c.write("EHLO client.test\r\n");
  await c.replies(1);
  c.write("MAIL FROM:<app@example.com>\r\nRCPT TO:<dave@dest.test>\r\n");
  expect((await c.replies(2)).map((l) => l.slice(0, 3))).toEqual(["250", "250"]);
  return c;
}

/** DATA on an open session; the reply to the final dot. */
async function finishData(c: RawSmtp, subject: string, timeoutMs: number): Promise<string> {
  c.write("DATA\r\n");
  expect((await c.replies(1))[0]).toStartWith("354");
  c.write(`From: app@example.com\r\nSubject: ${subject}\r\n\r\nhello\r\n.\r\n`);
  const [reply] = await c.replies(1, timeoutMs);
  return reply ?? "(no reply)";
}

/** Waits until the node takes mail again over HTTP and SMTP (it was not restarted). */
async function expectAcceptsAgain(tag: string): Promise<void> {
  let n = 0;
  const id = await waitFor(
    "HTTP 202 after the database came back",
    async () => {
      const res = await httpSend(`${tag} after ${n++}`);
      return res.status === 202 ? ((await res.json()) as { id: string }).id : undefined;
    },
    30_000,
  );
  expect(id).toBeString();
  const steps = await smtpSend(`${tag} smtp after`);
  expect(steps.map((s) => s[1])).toEqual([250, 250, 250]);
  expect(steps[2]![2]).toMatch(/^2\.0\.0 Ok: queued as \S+/);
  expect(await stored(`${tag} smtp after`)).toBe(1);
}

test("sqld stopped: DATA gets 4xx with an enhanced code, HTTP a 5xx JSON error, nothing acknowledged; accepted again once sqld is back", async () => {
  expect((await smtpSend("before")).map((s) => s[1])).toEqual([250, 250, 250]);
  expect((await httpSend("before http")).status).toBe(202);
  const open = await openTransaction();

  await shared.sqld.stop();
  const dataReply = await finishData(open, "stopped open session", 30_000);
  open.close();
  expect(dataReply).toMatch(/^4\d\d 4\.\d{1,3}\.\d{1,3} /);
  expectRefused(await smtpSend("stopped new session"));
  await expectHttpRefused(await httpSend("stopped http"));

  await shared.sqld.restart();
  await expectAcceptsAgain("stopped");
  // What was refused was never stored; what was acknowledged before is still there.
  for (const s of ["stopped open session", "stopped new session", "stopped http"]) expect(await stored(s)).toBe(0);
  expect(await stored("before")).toBe(1);
}, 90_000);

// The bound: a database unreachable for 30 s means refusals, never a hang.
test("sqld frozen (SIGSTOP, requests hang): refused within 30 s, never acknowledged; accepted again after SIGCONT", async () => {
  const open = await openTransaction();
  shared.sqld.pause();
  let resumed = false;
  try {
    const started = Date.now();
    const [dataReply, fresh, res] = await withTimeout(
      Promise.all([finishData(open, "frozen open session", 31_000), smtpSend("frozen new session"), httpSend("frozen http")]),
      31_000,
      "SMTP and HTTP answers while the database hangs",
    );
    open.close();
    expect(dataReply).toMatch(/^4\d\d 4\.\d{1,3}\.\d{1,3} /);
    expectRefused(fresh);
    await expectHttpRefused(res);
    expect(Date.now() - started).toBeLessThan(31_000);
    shared.sqld.resume();
    resumed = true;
  } finally {
    if (!resumed) shared.sqld.resume();
  }
  await expectAcceptsAgain("frozen");
}, 90_000);
