/**
 * Every sender a message names is checked in the gateway, whatever the source; internal and
 * forged trust headers never get stored; recipient limits hold on HTTP as on SMTP.
 */
import { describe, expect, test } from "bun:test";
import { addTenant, openDb, useRelay } from "../support/relay.ts";
import { RawSmtp } from "../support/smtp-client.ts";

const f = useRelay({ SMARTHOST_ALLOW_INSECURE_AUTH: "true", SMARTHOST_MAX_RECIPIENTS: "10", SMARTHOST_METRICS_TOKEN: "metrics-secret-token" }, async (dir) => {
  await addTenant(dir, { account: "counted", username: "counted-user", limits: ["--recipients-per-day", "5"] });
});

const b64 = (s: string) => Buffer.from(s).toString("base64");

async function post(path: string, body: unknown, apiKey = f.tenant.apiKey) {
  const res = await fetch(`${f.relay.http}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

async function query(sql: string, args: (string | number)[] = []) {
  const db = openDb(f.relay.dbUrl);
  try {
    return (await db.execute({ sql, args })).rows;
  } finally {
    db.close();
  }
}

const storedRaw = async (id: string) => Buffer.from((await query("SELECT raw FROM messages WHERE id = ?", [id]))[0]!.raw as ArrayBuffer);
const messageCount = async () => Number((await query("SELECT count(*) AS n FROM messages"))[0]!.n);

async function session(user = f.tenant.username, password = f.tenant.password): Promise<RawSmtp> {
  const c = await RawSmtp.open(f.relay.smtpPort);
  await c.replies(1);
  c.write("EHLO policy.test\r\n");
  await c.replies(1);
  c.write(`AUTH PLAIN ${b64(`\0${user}\0${password}`)}\r\n`);
  expect((await c.replies(1))[0]).toStartWith("235");
  return c;
}

async function say(c: RawSmtp, line: string): Promise<string> {
  c.write(line);
  return (await c.replies(1))[0]!;
}

/** MAIL, RCPT, DATA with `body` (CRLF lines, dot-terminated here); the reply to the data. */
async function sendSmtp(body: string, rcpts = ["bob@dest.test"], c?: RawSmtp): Promise<string> {
  const s = c ?? (await session());
  expect(await say(s, "MAIL FROM:<alice@example.com>\r\n")).toStartWith("250");
  for (const r of rcpts) expect(await say(s, `RCPT TO:<${r}>\r\n`)).toStartWith("250");
  expect(await say(s, "DATA\r\n")).toStartWith("354");
  const reply = await say(s, `${body}.\r\n`);
  if (!c) s.close();
  return reply;
}

describe("envelope sender on every source", () => {
  test("raw with a mail_from outside the rules is 403 sender_denied and nothing is stored", async () => {
    const before = await messageCount();
    const r = await post("/v1/messages/raw", {
      mail_from: "ceo@victim.example",
      rcpt_to: ["x@dest.test"],
      raw: b64("From: alice@example.com\r\nSubject: payload\r\n\r\nhi\r\n"),
    });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("sender_denied");
    expect(r.body.error.message).toContain("ceo@victim.example");
    expect(await messageCount()).toBe(before);
  });

  test("the null sender <> stays allowed from an account", async () => {
    const r = await post("/v1/messages/raw", { mail_from: "", rcpt_to: ["x@dest.test"], raw: b64("From: alice@example.com\r\n\r\nhi\r\n") });
    expect(r.status).toBe(202);
    expect((await query("SELECT mail_from FROM messages WHERE id = ?", [r.body.id]))[0]!.mail_from).toBe("");
  });
});

describe("Sender: and Resent-From:", () => {
  test("a Sender: outside the rules is refused over SMTP (550 5.7.1) and HTTP raw (403)", async () => {
    expect(await sendSmtp("From: alice@example.com\r\nSender: boss@bank.test\r\nSubject: s\r\n\r\nhi\r\n")).toStartWith("550 5.7.1");
    const r = await post("/v1/messages/raw", {
      mail_from: "alice@example.com",
      rcpt_to: ["x@dest.test"],
      raw: b64("From: alice@example.com\r\nSender: boss@bank.test\r\n\r\nhi\r\n"),
    });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain("Sender: address <boss@bank.test>");
  });

  test("a Resent-From: outside the rules is refused; inside them it passes", async () => {
    const bad = await post("/v1/messages/raw", {
      mail_from: "alice@example.com",
      rcpt_to: ["x@dest.test"],
      raw: b64("Resent-From: ceo@victim.example\r\nFrom: alice@example.com\r\n\r\nhi\r\n"),
    });
    expect(bad.status).toBe(403);
    expect(bad.body.error.message).toContain("Resent-From: address <ceo@victim.example>");
    const good = await post("/v1/messages/raw", {
      mail_from: "alice@example.com",
      rcpt_to: ["x@dest.test"],
      raw: b64("Resent-From: bob@example.com\r\nSender: carol@example.com\r\nFrom: alice@example.com\r\n\r\nhi\r\n"),
    });
    expect(good.status).toBe(202);
  });
});

describe("headers that are not stored", () => {
  const forged = "Authentication-Results: mx.example; dmarc=pass\r\n header.from=example.com\r\n";
  // The message's own Date: and Message-ID:, so the relay adds none (src/mime/submission-fields.ts).
  const dated = (id: string) => `Date: Mon, 7 Dec 2026 08:00:00 +0000\r\nMessage-ID: <${id}@example.com>\r\n`;

  test("SMTP: the idempotency key is honoured, then it and Authentication-Results are removed; other bytes kept", async () => {
    const c = await session();
    const body = `From: alice@example.com\r\nSmarthost-Idempotency-Key: strip-1\r\n${forged}${dated("strip-1")}Subject: kept\r\n\r\nAuthentication-Results: in the body stays\r\n`;
    const first = await sendSmtp(body, ["bob@dest.test"], c);
    expect(first).toStartWith("250 2.0.0 Ok: queued as ");
    // The key was read before it was removed: the same key again is the same message.
    expect(await sendSmtp(body, ["bob@dest.test"], c)).toBe(first);
    c.close();
    const raw = (await storedRaw(first.split(" ").at(-1)!)).toString("latin1");
    expect(raw).not.toContain("Smarthost-Idempotency-Key");
    expect(raw).not.toContain("dmarc=pass");
    expect(raw).not.toContain("header.from=");
    // The trace header, the remaining fields and the whole body are as they were.
    expect(raw).toStartWith("Received: ");
    expect(raw.slice(raw.indexOf("From: alice@example.com"))).toBe(`From: alice@example.com\r\n${dated("strip-1")}Subject: kept\r\n\r\nAuthentication-Results: in the body stays\r\n`);
  });

  test("HTTP raw: the same headers are removed, the rest byte for byte", async () => {
    const body = Buffer.concat([Buffer.from(`From: alice@example.com\r\n${forged}Smarthost-Idempotency-Key: strip-2\r\n${dated("strip-2")}Subject: 8bit\r\n\r\n`), Buffer.from([0xe9, 0xff, 0x0d, 0x0a])]);
    const r = await post("/v1/messages/raw", { mail_from: "alice@example.com", rcpt_to: ["x@dest.test"], raw: body.toString("base64") });
    expect(r.status).toBe(202);
    const expected = Buffer.concat([Buffer.from(`From: alice@example.com\r\n${dated("strip-2")}Subject: 8bit\r\n\r\n`), Buffer.from([0xe9, 0xff, 0x0d, 0x0a])]);
    // After the Received: field the relay writes for HTTP (gateway/http-trace.ts).
    const stored = await storedRaw(r.body.id);
    expect(stored.toString("latin1")).toStartWith("Received: from [127.0.0.1] (key ");
    expect(Buffer.compare(stored.subarray(stored.length - expected.length), expected)).toBe(0);
    expect(stored.subarray(0, stored.length - expected.length).toString("latin1")).toMatch(/^Received: [^\r\n]+\r\n(\t[^\r\n]+\r\n)+$/);
  });
});

describe("recipient limits on HTTP", () => {
  const addrs = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}${i}@dest.test`);

  test("to + cc + bcc over SMARTHOST_MAX_RECIPIENTS is 400 naming the limit", async () => {
    const before = await messageCount();
    const r = await post("/v1/messages", { from: "alice@example.com", to: addrs(4, "t"), cc: addrs(4, "c"), bcc: addrs(3, "b"), text: "x" });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("too_many_recipients");
    expect(r.body.error.message).toContain("at most 10");
    const raw = await post("/v1/messages/raw", { mail_from: "alice@example.com", rcpt_to: addrs(11, "r"), raw: b64("From: alice@example.com\r\n\r\nx\r\n") });
    expect(raw.status).toBe(400);
    expect(raw.body.error.message).toContain("at most 10");
    expect(await messageCount()).toBe(before);
    const exactly = await post("/v1/messages", { from: "alice@example.com", to: addrs(4, "t"), cc: addrs(3, "c"), bcc: addrs(3, "b"), text: "x" });
    expect(exactly.status).toBe(202);
  });

  test("--recipients-per-day counts recipients, not messages: 429 over HTTP, 452 4.5.3 over SMTP", async () => {
    const { cliOk } = await import("../support/relay.ts");
    const key = await cliOk(f.dir, ["key", "add", "counted"]);
    expect((await post("/v1/messages", { from: "a@example.com", to: addrs(3, "d"), text: "x" }, key)).status).toBe(202);
    const over = await post("/v1/messages", { from: "a@example.com", to: addrs(3, "e"), text: "x" }, key);
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe("quota");
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    const c = await session("counted-user");
    const reply = await sendSmtp("From: alice@example.com\r\nSubject: three more\r\n\r\nx\r\n", addrs(3, "g"), c);
    expect(reply).toStartWith("452 4.5.3");
    expect((await post("/v1/messages", { from: "a@example.com", to: addrs(2, "f"), text: "x" }, key)).status).toBe(202);
    // Full now: the next MAIL is answered early.
    expect(await say(c, "RSET\r\n")).toStartWith("250");
    expect(await say(c, "MAIL FROM:<alice@example.com>\r\n")).toStartWith("452 4.5.3");
    c.close();
    const row = (await query("SELECT day_count, day_recipients FROM rate_counters r JOIN accounts a ON a.id = r.account_id WHERE a.name = 'counted'"))[0]!;
    expect([Number(row.day_count), Number(row.day_recipients)]).toEqual([2, 5]);
  });
});

describe("/metrics with SMARTHOST_METRICS_TOKEN", () => {
  test("401 without the token or with a wrong one, 200 with it", async () => {
    const none = await fetch(`${f.relay.http}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error.code).toBe("unauthenticated");
    expect((await fetch(`${f.relay.http}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const ok = await fetch(`${f.relay.http}/metrics`, { headers: { authorization: "Bearer metrics-secret-token" } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/smarthost_queue_recipients\{state="queued"\} [1-9]/);
  });
});
