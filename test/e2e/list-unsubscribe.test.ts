/**
 * One-click unsubscribe end to end (RFC 8058): a relay with SMARTHOST_PUBLIC_URL delivering
 * to a real upstream (smtp-server) that keeps the bytes, the link in them POSTed the way
 * Gmail does, a webhook receiver on loopback, and the next RCPT refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { addTenant, cliOk, openDb, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { checkBulk } from "../../src/domain-check/bulk.ts";
import { startUpstream, type Received, type Upstream } from "../support/upstream.ts";
import { startReceiver, type Receiver } from "../support/webhook-receiver.ts";
import { freeTcpPort } from "../support/ports.ts";
import { postMessage } from "../support/api.ts";
import { RawSmtp } from "../support/smtp-client.ts";
import { waitFor } from "../support/wait.ts";

const SECRET_KEY = Buffer.alloc(32, 9).toString("base64");

let dir: string;
let upstream: Upstream;
let relay: Relay;
let tenant: Tenant;
let hooks: Receiver;
let hookSecret: string;
let publicUrl: string;

beforeAll(async () => {
  dir = tempDir();
  upstream = await startUpstream();
  hooks = startReceiver();
  const port = await freeTcpPort();
  publicUrl = `http://127.0.0.1:${port}`;
  const env = {
    SMARTHOST_SECRET_KEY: SECRET_KEY,
    SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: "true",
    SMARTHOST_WEBHOOK_RETRY_SECONDS: "1,1,1,1,1",
    SMARTHOST_HTTP_LISTEN: `127.0.0.1:${port}`,
    SMARTHOST_PUBLIC_URL: publicUrl,
  };
  tenant = await addTenant(dir);
  await cliOk(dir, ["network", "allow", "acme", "127.0.0.1/32"], env);
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=required`], env);
  await cliOk(dir, ["account", "update", "acme", "--list-unsubscribe", "one-click"], env);
  hookSecret = await cliOk(dir, ["webhook", "add", "acme", hooks.url, "--events", "recipient.unsubscribed"], env);
  const ca = join(dir, "upstream-ca.pem");
  writeFileSync(ca, upstream.cert);
  relay = await startRelay(dir, { ...env, SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_UPSTREAM_CA_FILE: ca });
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  await hooks?.stop();
  await upstream?.close();
  if (dir) removeDir(dir);
});

const auth = () => ({ authorization: `Bearer ${tenant.apiKey}` });

/** The unfolded values of a header field of a delivered message. */
function fields(m: Received, name: string): string[] {
  const head = m.raw.toString("latin1").split("\r\n\r\n")[0]!.replace(/\r\n[ \t]+/g, " ");
  return head.split("\r\n").filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(name.length + 1).trim());
}

async function sendAndReceive(to: string, extra: Record<string, unknown> = {}): Promise<{ id: string; body: any; got: Received }> {
  const res = await postMessage(relay.http, tenant.apiKey, { from: "alice@example.com", to: [to], subject: `to ${to}`, text: "news", ...extra });
  const body = (await res.json()) as any;
  expect(res.status, JSON.stringify(body)).toBe(202);
  const got = await waitFor(`delivery to ${to}`, () => upstream.received.find((r) => r.rcptTo.includes(to)));
  return { id: body.id, body, got };
}

/** This feature's warnings (others, such as DMARC alignment, may come beside them). */
const ours = (warnings: { code: string; message: string }[] | undefined) => (warnings ?? []).filter((w) => w.code === "bulk_without_unsubscribe" || w.code.startsWith("list_unsubscribe"));

const linkOf = (m: Received) => /<(http:\/\/[^>]+)>/.exec(fields(m, "List-Unsubscribe")[0] ?? "")?.[1];

/** As Gmail sends it (RFC 8058 §3.2): POST, a form body, no cookies, redirects not followed. */
const oneClick = (url: string, body = "List-Unsubscribe=One-Click") =>
  fetch(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body, redirect: "manual" });

async function suppression(address: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${relay.http}/v1/suppressions/${encodeURIComponent(address)}`, { headers: auth() });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function rcptReply(to: string): Promise<string> {
  const c = await RawSmtp.open(relay.smtpPort);
  try {
    await c.replies(1);
    c.write("EHLO client.test\r\n");
    await c.replies(1);
    c.write("MAIL FROM:<alice@example.com>\r\n");
    expect((await c.replies(1))[0]).toStartWith("250");
    c.write(`RCPT TO:<${to}>\r\n`);
    const [reply] = await c.replies(1);
    c.write("QUIT\r\n");
    return reply!;
  } finally {
    c.close();
  }
}

describe("one-click unsubscribe", () => {
  test("the delivered message carries the link and List-Unsubscribe-Post; GET changes nothing; the one-click POST suppresses, fires the webhook, and the next RCPT is refused", async () => {
    const { id, body, got } = await sendAndReceive("bob@dest.test");
    expect(body).toMatchObject({ id, status: "queued", suppressed: [] });
    expect(ours(body.warnings)).toEqual([]);
    expect(fields(got, "List-Unsubscribe-Post")).toEqual(["List-Unsubscribe=One-Click"]);
    const link = linkOf(got)!;
    expect(link).toStartWith(`${publicUrl}/u/`);

    // A link scanner's GET: a page with a button that POSTs, nothing suppressed.
    const page = await fetch(link);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<form method="post">');
    expect(html).toContain('name="List-Unsubscribe" value="One-Click"');
    expect((await suppression("bob@dest.test")).status).toBe(404);

    // Not the one-click body: refused, nothing suppressed.
    expect((await oneClick(link, "unsubscribe=yes")).status).toBe(400);
    expect((await suppression("bob@dest.test")).status).toBe(404);

    const res = await oneClick(link);
    expect(res.status).toBe(200);
    expect(res.headers.get("location")).toBeNull();
    expect(await res.json()).toEqual({ status: "unsubscribed" });

    const entry = await suppression("bob@dest.test");
    expect(entry.body).toMatchObject({ address: "bob@dest.test", reason: "unsubscribe", message_id: id, expires_at: null });

    const hook = await waitFor("recipient.unsubscribed webhook", () => hooks.received.find((h) => h.body.includes("recipient.unsubscribed")));
    const payload = new Webhook(hookSecret.replace(/^whsec_/, "")).verify(hook.body, hook.headers) as any;
    expect(payload).toMatchObject({ type: "recipient.unsubscribed", data: { message_id: id, account: "acme", from: "alice@example.com", recipient: "bob@dest.test" } });

    expect(await rcptReply("bob@dest.test")).toMatch(/^550 5\.7\.1 .*unsubscribed/);

    // Pressed again (a provider retries): 200, and still one event.
    expect((await oneClick(link)).status).toBe(200);
    const events = (await (await fetch(`${relay.http}/v1/events`, { headers: auth() })).json()) as { data: { type: string }[] };
    expect(events.data.filter((e) => e.type === "recipient.unsubscribed")).toHaveLength(1);
    expect(events.data.filter((e) => e.type === "suppression.added")).toHaveLength(1);
  }, 60_000);

  test("a link changed to name another address, or forged, is refused without saying why; that address stays subscribed", async () => {
    const { got } = await sendAndReceive("carol@dest.test");
    const link = linkOf(got)!;
    const [payload, tag] = link.slice(link.lastIndexOf("/") + 1).split(".");
    const claim = Buffer.from(payload!, "base64url").toString();
    const other = `${publicUrl}/u/${Buffer.from(claim.replace("carol@dest.test", "dave@dest.test")).toString("base64url")}.${tag}`;
    const forged = `${publicUrl}/u/${payload}.${"A".repeat(43)}`;
    for (const url of [other, forged, `${publicUrl}/u/nonsense`]) {
      const res = await oneClick(url);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: "not_found", message: "No such unsubscribe link" } });
      expect((await fetch(url)).status).toBe(404);
    }
    expect((await suppression("dave@dest.test")).status).toBe(404);
    expect((await suppression("carol@dest.test")).status).toBe(404);
  }, 60_000);

  test("per message: list_unsubscribe false leaves it out; the raw route keeps the sender's mailto: beside the link", async () => {
    const off = await sendAndReceive("erin@dest.test", { list_unsubscribe: false });
    expect(fields(off.got, "List-Unsubscribe")).toEqual([]);
    expect(fields(off.got, "List-Unsubscribe-Post")).toEqual([]);

    const raw = "From: alice@example.com\r\nTo: frank@dest.test\r\nSubject: raw\r\nList-Unsubscribe: <mailto:leave@example.com>\r\n\r\nhi\r\n";
    const res = await fetch(`${relay.http}/v1/messages/raw`, { method: "POST", headers: auth(), body: JSON.stringify({ mail_from: "alice@example.com", rcpt_to: ["frank@dest.test"], raw: Buffer.from(raw).toString("base64"), list_unsubscribe: true }) });
    expect(res.status).toBe(202);
    const got = await waitFor("raw delivery", () => upstream.received.find((r) => r.rcptTo.includes("frank@dest.test")));
    expect(fields(got, "List-Unsubscribe")).toEqual([expect.stringMatching(/^<http:\/\/127\.0\.0\.1:\d+\/u\/[^>]+>, <mailto:leave@example\.com>$/)]);
    expect(fields(got, "List-Unsubscribe-Post")).toEqual(["List-Unsubscribe=One-Click"]);
  }, 60_000);

  test("warnings: several recipients get no link; bulk mail without List-Unsubscribe while it is off is accepted, warned about and logged", async () => {
    const many = await postMessage(relay.http, tenant.apiKey, { from: "alice@example.com", to: ["g1@dest.test", "g2@dest.test"], subject: "two", text: "x" });
    expect(many.status).toBe(202);
    expect(ours(((await many.json()) as any).warnings)).toEqual([{ code: "list_unsubscribe_one_recipient", message: expect.stringContaining("one recipient") }]);

    const bulk = await postMessage(relay.http, tenant.apiKey, { from: "alice@example.com", to: ["h@dest.test"], subject: "bulk", text: "x", headers: { Precedence: "bulk" }, list_unsubscribe: false });
    const b = (await bulk.json()) as any;
    expect(bulk.status).toBe(202);
    expect(ours(b.warnings)).toEqual([{ code: "bulk_without_unsubscribe", message: expect.stringContaining("List-Unsubscribe") }]);
    await waitFor("the warning logged", () => relay.logs().split("\n").some((l) => l.includes('"accept_warning"') && l.includes(b.id) && l.includes("bulk_without_unsubscribe")));
    // domain check counts it: bulk mail from example.com without one-click unsubscribe.
    const db = openDb(relay.dbUrl);
    try {
      const row = await checkBulk(db, "example.com", Date.now());
      expect(row).toMatchObject({ check: "bulk", ok: false, detail: expect.stringMatching(/^1 without one-click unsubscribe/) });
      expect(await checkBulk(db, "nobody-sends-from.test", Date.now())).toBeNull();
    } finally {
      db.close();
    }
  }, 60_000);
});
