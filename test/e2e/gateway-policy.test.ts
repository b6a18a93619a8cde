/** Who may send what: sender rules, AUTH throttling, idempotency across HTTP and SMTP. */
import { describe, expect, test } from "bun:test";
import { addTenant, openDb, removeDir, startRelay, tempDir, useRelay } from "../support/relay.ts";
import { RawSmtp } from "../support/smtp-client.ts";
import { THROTTLE } from "../../src/policy/auth-throttle.ts";

const f = useRelay({ SMARTHOST_ALLOW_INSECURE_AUTH: "true" }, async (dir) => {
  await addTenant(dir, { account: "other", username: "mallory" });
});

const b64 = (s: string) => Buffer.from(s).toString("base64");

async function session(user = f.tenant.username, password = f.tenant.password): Promise<RawSmtp> {
  const c = await RawSmtp.open(f.relay.smtpPort);
  await c.replies(1);
  c.write("EHLO policy.test\r\n");
  await c.replies(1);
  c.write(`AUTH PLAIN ${b64(`\0${user}\0${password}`)}\r\n`);
  const [r] = await c.replies(1);
  expect(r).toStartWith("235");
  return c;
}

async function say(c: RawSmtp, line: string): Promise<string> {
  c.write(line);
  return (await c.replies(1))[0]!;
}

describe("sender rules", () => {
  test("MAIL FROM outside the account's rules gets 550 5.7.1", async () => {
    const c = await session();
    expect(await say(c, "MAIL FROM:<alice@elsewhere.test>\r\n")).toStartWith("550 5.7.1");
    expect(await say(c, "MAIL FROM:<alice@example.com>\r\n")).toStartWith("250");
    c.close();
  });

  test("a From: header outside the rules is refused at end of data", async () => {
    const c = await session();
    await say(c, "MAIL FROM:<alice@example.com>\r\n");
    await say(c, "RCPT TO:<bob@dest.test>\r\n");
    await say(c, "DATA\r\n");
    expect(await say(c, "From: ceo@bank.test\r\nSubject: x\r\n\r\nhi\r\n.\r\n")).toStartWith("550 5.7.1");
    c.close();
  });
});

describe("AUTH throttling", () => {
  test("slows repeated failures, keeps the connection for three, then refuses even the right password", async () => {
    const c = await RawSmtp.open(f.relay.smtpPort);
    await c.replies(1);
    c.write("EHLO guess.test\r\n");
    await c.replies(1);
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      expect(await say(c, `AUTH PLAIN ${b64("\0mallory\0wrong-guess")}\r\n`)).toStartWith("535 5.7.8");
      times.push(Date.now() - t0);
      if (i < 3) expect(c.closed).toBe(false);
    }
    // Each failure already counted delays the next answer by a step: a lower bound the
    // server's own timer guarantees however loaded the machine is (timers may fire ~1 ms early).
    for (let i = 1; i < 5; i++) expect(times[i]!).toBeGreaterThanOrEqual(Math.min(THROTTLE.maxDelayMs, i * THROTTLE.delayStepMs) - 5);
    const r = await say(c, `AUTH PLAIN ${b64(`\0mallory\0${f.tenant.password}`)}\r\n`);
    expect(r).toStartWith("454 4.7.0");
    c.close();
    const db = openDb(f.relay.dbUrl);
    const rows = (await db.execute("SELECT key, count FROM auth_failures ORDER BY key")).rows;
    db.close();
    // Refused per (user, address) and per address; per user only slowed (policy/auth-throttle.ts).
    expect(rows.map((r) => r.key)).toEqual(["ip:127.0.0.1", "pair:mallory|127.0.0.1", "user:mallory"]);
  }, 30_000);

  test("refuses an authzid other than the user", async () => {
    const c = await RawSmtp.open(f.relay.smtpPort);
    await c.replies(1);
    c.write("EHLO z.test\r\n");
    await c.replies(1);
    expect(await say(c, `AUTH PLAIN ${b64(`mallory\0${f.tenant.username}\0${f.tenant.password}`)}\r\n`)).toStartWith("535");
    c.close();
  });
});

describe("idempotency", () => {
  test("the same key over HTTP then SMTP yields one message", async () => {
    const res = await fetch(`${f.relay.http}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${f.tenant.apiKey}`, "content-type": "application/json", "idempotency-key": "order-4711" },
      body: JSON.stringify({ from: "alice@example.com", to: ["bob@dest.test"], subject: "once", text: "only once" }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const c = await session();
    await say(c, "MAIL FROM:<alice@example.com>\r\n");
    await say(c, "RCPT TO:<bob@dest.test>\r\n");
    await say(c, "DATA\r\n");
    const r = await say(c, "From: alice@example.com\r\nSmarthost-Idempotency-Key: order-4711\r\nSubject: once\r\n\r\nagain\r\n.\r\n");
    expect(r).toBe(`250 2.0.0 Ok: queued as ${id}`);
    c.close();
    const db = openDb(f.relay.dbUrl);
    const n = (await db.execute({ sql: "SELECT count(*) AS n FROM messages WHERE idempotency_key = ?", args: ["order-4711"] })).rows[0]!.n;
    db.close();
    expect(Number(n)).toBe(1);
  });

  test("keys are per account", async () => {
    const post = (key: string) =>
      fetch(`${f.relay.http}/v1/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "idempotency-key": "shared-key" },
        body: JSON.stringify({ from: "x@example.com", to: ["bob@dest.test"], text: "t" }),
      }).then(async (r) => ({ status: r.status, id: ((await r.json()) as { id: string }).id }));
    const otherKey = await (await import("../support/relay.ts")).cliOk(f.dir, ["key", "add", "other"]);
    const a = await post(f.tenant.apiKey);
    const b = await post(otherKey);
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(a.id).not.toBe(b.id);
    // Repeated, each account gets its own message back, not the other's and not a new one.
    expect(await post(f.tenant.apiKey)).toEqual(a);
    expect(await post(otherKey)).toEqual(b);
    const db = openDb(f.relay.dbUrl);
    const sql = "SELECT m.id, a.name FROM messages m JOIN accounts a ON a.id = m.account_id WHERE m.idempotency_key = ? ORDER BY m.id";
    const rows = (await db.execute({ sql, args: ["shared-key"] })).rows;
    db.close();
    expect(rows.map((r) => [r.id, r.name])).toEqual([[a.id, "acme"], [b.id, "other"]].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)));
  });
});

describe("trusted networks", () => {
  test("a client in a trusted network relays without AUTH, as that account, under its sender rules", async () => {
    const { cliOk } = await import("../support/relay.ts");
    const d = tempDir();
    await addTenant(d, { account: "lan" });
    expect(await cliOk(d, ["network", "allow", "lan", "127.0.0.0/8"])).toContain("127.0.0.0/8");
    const bad = await (await import("../support/relay.ts")).cli(d, ["network", "allow", "lan", "not-a-net"]);
    expect(bad.code).toBe(1);
    const r = await startRelay(d);
    try {
      const c = await RawSmtp.open(r.smtpPort);
      await c.replies(1);
      c.write("EHLO lan-host.test\r\n");
      await c.replies(1);
      expect(await say(c, "MAIL FROM:<app@elsewhere.test>\r\n")).toStartWith("550 5.7.1");
      expect(await say(c, "MAIL FROM:<app@example.com>\r\n")).toStartWith("250");
      expect(await say(c, "RCPT TO:<x@dest.test>\r\n")).toStartWith("250");
      expect(await say(c, "DATA\r\n")).toStartWith("354");
      const done = await say(c, "From: app@example.com\r\nSubject: lan\r\n\r\nhi\r\n.\r\n");
      expect(done).toStartWith("250 2.0.0 Ok: queued as");
      c.close();
      const db = openDb(r.dbUrl);
      const raw = Buffer.from((await db.execute("SELECT raw FROM messages")).rows[0]!.raw as ArrayBuffer).toString();
      db.close();
      // Not authenticated: the trace says ESMTP, not ESMTPA.
      expect(raw).toContain("with ESMTP id");
    } finally {
      await r.stop();
      removeDir(d);
    }
  });
});
