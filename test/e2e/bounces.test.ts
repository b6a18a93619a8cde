/**
 * Bounces end to end: the running relay, a real smtp-server upstream that refuses, DSNs
 * parsed with mailparser, outcomes read back from the message API and the database.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { addTenant, cliOk, openDb, removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";
import { startUpstream, type UpstreamOptions } from "../support/upstream.ts";
import { smtplibSend } from "../support/python.ts";
import { waitFor } from "../support/wait.ts";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const DELIVERY_ENV = { SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_RETRY_BASE_SECONDS: "1" };

interface WireReply {
  code: number;
  enhanced: string | null;
  text: string;
}
interface Status {
  status: string;
  recipients: { address: string; state: string; attempts: number; last_reply: string; reply?: WireReply }[];
  events: { type: string; recipient: string | null; detail: string; reply?: WireReply }[];
}

async function setup(up: UpstreamOptions, limits: string[] = []) {
  const dir = tempDir();
  cleanup.push(() => removeDir(dir));
  const upstream = await startUpstream(up);
  cleanup.push(() => upstream.close());
  const tenant = await addTenant(dir, { limits });
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=required`]);
  const ca = join(dir, "upstream-ca.pem");
  writeFileSync(ca, upstream.cert);
  const r = await startRelay(dir, { ...DELIVERY_ENV, SMARTHOST_UPSTREAM_CA_FILE: ca });
  cleanup.push(() => r.stop());
  return { dir, upstream, tenant, r };
}

async function status(r: Relay, key: string, id: string): Promise<Status> {
  const res = await fetch(`${r.http}/v1/messages/${id}`, { headers: { authorization: `Bearer ${key}` } });
  return (await res.json()) as Status;
}

async function post(r: Relay, key: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${r.http}/v1/messages${path}`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
}

const settled = (r: Relay, key: string, id: string) =>
  waitFor("every recipient decided", async () => {
    const v = await status(r, key, id);
    return v.recipients.every((x) => x.state === "delivered" || x.state === "bounced") ? v : undefined;
  });

async function dsnRows(r: Relay) {
  const db = openDb(r.dbUrl);
  try {
    return (await db.execute("SELECT id FROM messages WHERE source = 'dsn'")).rows;
  } finally {
    db.close();
  }
}

describe("one DSN per message", () => {
  test("recipients refused at five domains: one DSN covering all five, charged to the account without refusing it", async () => {
    const domains = ["one.test", "two.test", "three.test", "four.test", "five.test"];
    const { upstream, tenant, r } = await setup({ onRcpt: (a) => (a.startsWith("gone@") ? { code: 550, message: "5.1.1 no such user here" } : null) }, ["--per-day", "1"]);
    const res = await post(r, tenant.apiKey, "", { from: "alice@example.com", to: [...domains.map((d) => `gone@${d}`), "bob@ok.test"], subject: "five domains", text: "x" });
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { id: string }).id;
    const st = await settled(r, tenant.apiKey, id);
    expect(st.recipients.filter((x) => x.state === "bounced")).toHaveLength(5);
    // The DSN is queued in the transaction that records the last outcome: all exist now.
    expect(await dsnRows(r)).toHaveLength(1);
    const dsn = await waitFor("the DSN delivered", () => upstream.received.find((m) => m.mailFrom === "") ?? undefined);
    expect(dsn.rcptTo).toEqual(["alice@example.com"]);
    const parsed = await simpleParser(dsn.raw);
    expect(parsed.headers.get("content-type")).toMatchObject({ value: "multipart/report", params: { "report-type": "delivery-status" } });
    const report = dsn.raw.toString();
    for (const d of domains) expect(report).toContain(`Final-Recipient: rfc822; gone@${d}\r\nAction: failed\r\nStatus: 5.1.1\r\n`);
    expect(report).not.toContain("bob@ok.test>");
    // RFC 5321 §6.1: the DSN went out although the account had used its one message of
    // the day — and it counts, so the next submission is refused.
    const db = openDb(r.dbUrl);
    const counter = (await db.execute("SELECT day_count FROM rate_counters")).rows;
    db.close();
    expect(counter).toEqual([expect.objectContaining({ day_count: 2 })]);
    expect((await post(r, tenant.apiKey, "", { from: "alice@example.com", to: ["bob@ok.test"], text: "again" })).status).toBe(429);
  }, 40_000);

  test("a raw message with no empty line: the DSN returns none of it", async () => {
    const { upstream, tenant, r } = await setup({ onRcpt: (a) => (a.endsWith("@victim.test") ? { code: 550, message: "5.1.1 no such user here" } : null) });
    const payload = `From: alice@example.com\r\nTo: x@victim.test\r\n${"X-Payload: buy now\r\n".repeat(300)}`;
    const res = await post(r, tenant.apiKey, "/raw", { mail_from: "alice@example.com", rcpt_to: ["x@victim.test"], raw: Buffer.from(payload).toString("base64") });
    expect(res.status).toBe(202);
    const dsn = await waitFor("the DSN", () => upstream.received.find((m) => m.mailFrom === "") ?? undefined);
    const text = dsn.raw.toString();
    expect(text).toContain("Final-Recipient: rfc822; x@victim.test");
    expect(text).not.toContain("buy now");
    expect(text).not.toContain("rfc822-headers");
  }, 30_000);
});

describe("outcomes by code, enhanced code and stage, kept as values", () => {
  test("a relay's 552 5.3.4 at end of DATA bounces at once, reply kept as {code, enhanced, text}", async () => {
    const { upstream, tenant, r } = await setup({ onData: (n) => (n === 1 ? { code: 552, message: "5.3.4 Message size exceeds fixed limit" } : null) });
    const res = await post(r, tenant.apiKey, "", { from: "alice@example.com", to: ["bob@dest.test"], subject: "big", text: "x" });
    const id = ((await res.json()) as { id: string }).id;
    const st = await settled(r, tenant.apiKey, id);
    expect(st.recipients[0]).toMatchObject({ state: "bounced", attempts: 1, last_reply: "552 5.3.4 Message size exceeds fixed limit" });
    expect(st.recipients[0]!.reply).toEqual({ code: 552, enhanced: "5.3.4", text: "Message size exceeds fixed limit" });
    const ev = st.events.find((e) => e.type === "bounced")!;
    expect(ev.reply).toEqual({ code: 552, enhanced: "5.3.4", text: "Message size exceeds fixed limit" });
    expect(ev.detail).toContain("552 5.3.4 Message size exceeds fixed limit (via smtp://127.0.0.1:");
    expect(st.events.find((e) => e.type === "accepted")!.reply).toBeUndefined();
    const dsn = await waitFor("the DSN", () => upstream.received.find((m) => m.mailFrom === "") ?? undefined);
    expect(dsn.raw.toString()).toContain("Status: 5.3.4\r\n");
  }, 30_000);
});

describe("IPv6 address literals", () => {
  test("<u@[IPv6:::1]> is delivered to ::1 (private addresses allowed), not bounced as a domain without MX", async () => {
    const received: string[][] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      disableReverseLookup: true,
      onData(stream, session, cb) {
        stream.resume();
        stream.on("end", () => {
          received.push(session.envelope.rcptTo.map((x) => x.address));
          cb();
        });
      },
    });
    server.on("error", () => {});
    await new Promise<void>((resolve) => server.listen(0, "::1", () => resolve()));
    cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.server.address() as { port: number }).port;

    const dir = tempDir();
    cleanup.push(() => removeDir(dir));
    const tenant = await addTenant(dir);
    const r = await startRelay(dir, { ...DELIVERY_ENV, SMARTHOST_UPSTREAM: "mx", SMARTHOST_MX_PORT: String(port), SMARTHOST_ALLOW_PRIVATE_MX: "true" });
    cleanup.push(() => r.stop());
    const reply = await smtplibSend(r.smtpPort, tenant.username, tenant.password, "alice@example.com", ["u@[IPv6:::1]"], "From: alice@example.com\r\nSubject: v6\r\n\r\nx\r\n");
    const id = /queued as (\S+)/.exec(reply)![1]!;
    const st = await settled(r, tenant.apiKey, id);
    expect(st.recipients[0]).toMatchObject({ state: "delivered", attempts: 1 });
    expect(st.events.at(-1)!.detail).toContain("[::1]");
    expect(received).toEqual([["u@[IPv6:::1]"]]);
  }, 30_000);

  test("without the switch, [IPv6:…] meets the same address guard as an IPv4 literal", async () => {
    const dir = tempDir();
    cleanup.push(() => removeDir(dir));
    const tenant = await addTenant(dir);
    const r = await startRelay(dir, { ...DELIVERY_ENV, SMARTHOST_UPSTREAM: "mx", SMARTHOST_ALLOW_PRIVATE_MX: "false" });
    cleanup.push(() => r.stop());
    const reply = await smtplibSend(r.smtpPort, tenant.username, tenant.password, "alice@example.com", ["u@[IPv6:2001:db8::1]", "v@[127.0.0.1]"], "From: alice@example.com\r\nSubject: v6\r\n\r\nx\r\n");
    const id = /queued as (\S+)/.exec(reply)![1]!;
    const st = await settled(r, tenant.apiKey, id);
    for (const rc of st.recipients) {
      expect(rc.state).toBe("bounced");
      expect(rc.reply).toMatchObject({ code: 550, enhanced: "5.4.4" });
    }
    expect(st.recipients[0]!.last_reply).toContain("non-public addresses (2001:db8::1)");
    expect(st.recipients[1]!.last_reply).toContain("non-public addresses (127.0.0.1)");
  }, 30_000);
});
