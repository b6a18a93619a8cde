/**
 * Late bounces and complaints end to end: a return path (VERP) seen by a real upstream
 * (smtp-server), DSNs and ARF reports delivered by Python's smtplib to the inbound listener,
 * the suppression list and the webhooks they change (a loopback receiver), and the
 * complaint-rate pause.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cliOk, openDb, type Relay, type Tenant } from "../support/relay.ts";
import { startInboundRelay, type InboundRelay } from "../support/inbound-relay.ts";
import type { Upstream } from "../support/upstream.ts";
import type { Receiver } from "../support/webhook-receiver.ts";
import { postMessage } from "../support/api.ts";
import { waitFor } from "../support/wait.ts";
import { python, PY_PRELUDE } from "../support/python.ts";
import { RawSmtp } from "../support/smtp-client.ts";
import { buildArf, buildDsn } from "../support/reports.ts";

let dir: string;
let relay: Relay;
let tenant: Tenant;
let upstream: Upstream;
let receiver: Receiver;
let inboundPort: number;
const VERP = /^b-[0-9a-z]+-[0-9a-v]+-[a-z2-7]{13}@bounces\.example\.com$/;

let fixture: InboundRelay;

beforeAll(async () => {
  fixture = await startInboundRelay({ complaintAddress: "FBL@relay.test", before: (d) => cliOk(d, ["network", "allow", "acme", "127.0.0.1/32"]).then(() => {}) });
  ({ dir, relay, tenant, upstream, receiver, inboundPort } = fixture);
});

afterAll(async () => {
  await fixture?.stop();
});

/** One message through smtplib from the null sender (as a DSN comes); each RCPT's code, then DATA's. */
function sendReport(to: string[], data: string): Promise<{ rcpt: number[]; data: number | null; dataText: string }> {
  return python(
    `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo('mx.dest.test')
s.mail('')
codes = [s.rcpt(r)[0] for r in json.loads(sys.argv[2])]
d, t = (None, b'')
if any(c == 250 for c in codes):
    d, t = s.data(sys.argv[3].encode())
s.quit()
out({'rcpt': codes, 'data': d, 'dataText': t.decode()})`,
    [inboundPort, JSON.stringify(to), data],
  );
}

interface Hook {
  type: string;
  data: Record<string, unknown>;
}
const hooks = (): Hook[] => receiver.received.map((h) => JSON.parse(h.body) as Hook);
const suppressions = async (): Promise<{ address: string; reason: string; message_id: string | null }[]> => JSON.parse(await cliOk(dir, ["suppression", "list", "acme", "--json"]));

let messageId: string;
const envelopeOf = new Map<string, string>();

describe("return path (VERP)", () => {
  test("domain return-path prints the MX record to publish", async () => {
    const out = await cliOk(dir, ["domain", "return-path", "example.com", "bounces.example.com"]);
    expect(out).toBe("bounces.example.com. IN MX 10 relay.test.");
    const list = JSON.parse(await cliOk(dir, ["domain", "return-path", "list", "--json"])) as { domain: string; return_domain: string }[];
    expect(list).toMatchObject([{ domain: "example.com", return_domain: "bounces.example.com" }]);
  });

  test("each recipient's mail leaves with its own b-<token>@RPDOMAIN envelope sender", async () => {
    const res = await postMessage(relay.http, tenant.apiKey, { from: "alice@example.com", to: ["gone@dest.test", "full@dest.test", "bob@dest.test"], subject: "news", text: "hello" });
    expect(res.status).toBe(202);
    messageId = ((await res.json()) as { id: string }).id;
    await waitFor("three transactions upstream", () => upstream.received.filter((r) => r.rcptTo.length === 1).length >= 3);
    for (const r of upstream.received) {
      expect(r.rcptTo).toHaveLength(1);
      envelopeOf.set(r.rcptTo[0]!, r.mailFrom);
    }
    const senders = [...envelopeOf.values()];
    for (const s of senders) expect(s).toMatch(VERP);
    expect(new Set(senders).size).toBe(3);
  });
});

describe("inbound listener", () => {
  test("mail to any other address is refused 550 5.7.1, a forged token too; no AUTH is offered", async () => {
    const gone = envelopeOf.get("gone@dest.test")!;
    const forged = gone.replace(/-([a-z2-7]{13})@/, (_, mac: string) => `-${mac.endsWith("a") ? mac.slice(0, -1) + "b" : mac.slice(0, -1) + "a"}@`);
    const r = await sendReport(["postmaster@relay.test", "someone@dest.test", forged, "b-x@bounces.example.com"], "Subject: x\r\n\r\nx\r\n");
    expect(r.rcpt).toEqual([550, 550, 550, 550]);
    const c = await RawSmtp.open(inboundPort);
    try {
      await c.replies(1);
      c.write("EHLO client.test\r\n");
      expect((await c.replies(1)).join("\n")).not.toContain("AUTH");
      c.write("MAIL FROM:<>\r\n");
      await c.replies(1);
      c.write("RCPT TO:<nobody@bounces.example.com>\r\n");
      expect((await c.replies(1))[0]).toStartWith("550 5.7.1 ");
      c.write("QUIT\r\n");
    } finally {
      c.close();
    }
  });

  test("a late 5.1.1 DSN to the token suppresses the recipient, shows in the trace and fires message.bounced with late: true", async () => {
    const dsn = buildDsn({ to: envelopeOf.get("gone@dest.test")!, recipients: [{ finalRecipient: "gone@dest.test", action: "failed", status: "5.1.1", diagnostic: "550 5.1.1 <gone@dest.test>: user unknown", remoteMta: "mx1.dest.test" }] });
    const r = await sendReport([envelopeOf.get("gone@dest.test")!], dsn);
    expect(r.rcpt).toEqual([250]);
    expect(r.data).toBe(250);
    await waitFor("suppressed", async () => (await suppressions()).some((s) => s.address === "gone@dest.test"));
    expect((await suppressions()).find((s) => s.address === "gone@dest.test")).toMatchObject({ reason: "bounce", message_id: messageId });
    const hook = await waitFor("message.bounced", () => hooks().find((h) => h.type === "message.bounced" && h.data.recipient === "gone@dest.test"));
    expect(hook.data).toMatchObject({ message_id: messageId, late: true, reply: { code: 550, enhanced: "5.1.1" }, bounce_class: "recipient" });
    const trace = (await openDb(relay.dbUrl).execute({ sql: "SELECT detail FROM events WHERE message_id = ? AND type = 'bounced'", args: [messageId] })).rows;
    expect(trace.map((t) => String(t.detail))).toEqual([expect.stringContaining("late bounce (DSN from mx1.dest.test): 550 5.1.1")]);

    // The same DSN again changes nothing.
    expect((await sendReport([envelopeOf.get("gone@dest.test")!], dsn)).data).toBe(250);
    await waitFor("logged as duplicate", () => relay.logs().includes('"outcome":"duplicate"'));
    expect(hooks().filter((h) => h.type === "message.bounced")).toHaveLength(1);
  });

  test("a late 4.x.x delay or 5.2.2 DSN does not suppress; the 5.2.2 is still a late bounce", async () => {
    const to = envelopeOf.get("full@dest.test")!;
    const delayed = buildDsn({ to, recipients: [{ finalRecipient: "full@dest.test", action: "delayed", status: "4.2.2", diagnostic: "452 4.2.2 mailbox full" }] });
    expect((await sendReport([to], delayed)).data).toBe(250);
    await waitFor("delay logged", () => relay.logs().includes('"outcome":"dsn_not_failed"'));
    const full = buildDsn({ to, recipients: [{ finalRecipient: "full@dest.test", action: "failed", status: "5.2.2", diagnostic: "552 5.2.2 mailbox full" }] });
    expect((await sendReport([to], full)).data).toBe(250);
    const hook = await waitFor("message.bounced", () => hooks().find((h) => h.type === "message.bounced" && h.data.recipient === "full@dest.test"));
    expect(hook.data).toMatchObject({ late: true, reply: { enhanced: "5.2.2" } });
    expect((await suppressions()).map((s) => s.address)).toEqual(["gone@dest.test"]);
  });

  test("anything else to a token is dropped and counted, never forwarded", async () => {
    const before = upstream.received.length;
    const r = await sendReport([envelopeOf.get("bob@dest.test")!], "From: a@b.test\r\nSubject: out of office\r\n\r\nI am away.\r\n");
    expect(r.data).toBe(250);
    await waitFor("logged", () => relay.logs().includes('"outcome":"not_a_report"'));
    const metrics = await (await fetch(`${relay.http}/metrics`)).text();
    expect(metrics).toMatch(/smarthost_inbound_messages_total\{outcome="not_a_report"\} 1/);
    expect(upstream.received.length).toBe(before);
    expect(Number((await openDb(relay.dbUrl).execute("SELECT count(*) AS n FROM messages")).rows[0]!.n)).toBe(1);
  });

  test("an ARF report to the complaint address (found by its Message-ID) suppresses with reason complaint, fires message.complained, and the rate pauses the account", async () => {
    await cliOk(dir, ["account", "update", "acme", "--pause-on-complaint-rate", "10"]);
    const original = upstream.received.find((r) => r.rcptTo[0] === "bob@dest.test")!.raw.toString("latin1");
    // The report names no token: the original's Return-Path is left out, as some providers do.
    const arf = buildArf({ to: "fbl@relay.test", originalRcptTo: "bob@dest.test", original: original.replace(/^Return-Path:.*\r\n/im, "") });
    const r = await sendReport(["fbl@relay.test"], arf);
    expect(r.data).toBe(250);
    await waitFor("complaint suppression", async () => (await suppressions()).some((s) => s.address === "bob@dest.test" && s.reason === "complaint"));
    const complained = await waitFor("message.complained", () => hooks().find((h) => h.type === "message.complained"));
    expect(complained.data).toMatchObject({ message_id: messageId, account: "acme", from: "alice@example.com", recipient: "bob@dest.test", feedback_type: "abuse", subject: "news" });
    // One complaint of three delivered: 33 % ≥ 10 %.
    const paused = await waitFor("account.paused", () => hooks().find((h) => h.type === "account.paused"));
    expect(paused.data).toMatchObject({ account: "acme", reason: "complaint_rate", complaints: 1, delivered: 3, threshold: 10 });
    const metrics = await (await fetch(`${relay.http}/metrics`)).text();
    expect(metrics).toContain('smarthost_complaints_total{account="acme"} 1');
    const show = await cliOk(dir, ["account", "show", "acme", "--json"]);
    expect(JSON.parse(show).complaints).toMatchObject({ rate_24h: { complaints: 1, delivered: 3 }, pause_on_complaint_rate: 10 });

    // New mail is refused while paused (the pause is read within 5 s), over HTTP and SMTP.
    const refused = await waitFor("429", async () => {
      const res = await postMessage(relay.http, tenant.apiKey, { from: "alice@example.com", to: ["carol@dest.test"], subject: "s", text: "x" });
      return res.status === 429 ? res : undefined;
    });
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("account_paused");
    const c = await RawSmtp.open(relay.smtpPort);
    try {
      await c.replies(1);
      c.write("EHLO client.test\r\n");
      await c.replies(1);
      c.write("MAIL FROM:<alice@example.com>\r\n");
      expect((await c.replies(1))[0]).toStartWith("451 4.7.1 ");
      c.write("QUIT\r\n");
    } finally {
      c.close();
    }

    await cliOk(dir, ["account", "resume", "acme"]);
    await waitFor("accepted again", async () => (await postMessage(relay.http, tenant.apiKey, { from: "alice@example.com", to: ["carol@dest.test"], subject: "s", text: "x" })).status === 202);
  });
});
