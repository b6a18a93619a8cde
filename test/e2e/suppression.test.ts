/** The suppression list end to end: a relay, a real upstream that refuses, SMTP and HTTP clients. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { addTenant, cli, cliOk, openDb, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { RawSmtp } from "../support/smtp-client.ts";
import { postMessage } from "../support/api.ts";
import { waitFor } from "../support/wait.ts";

let dir: string;
let relay: Relay;
let tenant: Tenant;
let upstream: Upstream;

beforeAll(async () => {
  dir = tempDir();
  upstream = await startUpstream({
    onRcpt: (a) => {
      if (a.startsWith("gone@")) return { code: 550, message: "5.1.1 no such user here" };
      return null;
    },
    // A policy refusal of the message itself (end of DATA): permanent, but not the recipient's fault.
    // (At RCPT a relay's 5.7.1 is about our account with it: deferred for the route, see classify.ts.)
    onData: (_attempt, rcpts) => (rcpts.some((a) => a.startsWith("blocked@")) ? { code: 554, message: "5.7.1 Message rejected for policy reasons" } : null),
  });
  tenant = await addTenant(dir);
  await cliOk(dir, ["network", "allow", "acme", "127.0.0.1/32"]);
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=required`]);
  const ca = join(dir, "upstream-ca.pem");
  writeFileSync(ca, upstream.cert);
  relay = await startRelay(dir, { SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_UPSTREAM_CA_FILE: ca });
});

afterAll(async () => {
  await relay?.stop();
  await upstream?.close();
  if (dir) removeDir(dir);
});

const auth = () => ({ authorization: `Bearer ${tenant.apiKey}` });

async function send(to: string[]): Promise<Response> {
  return postMessage(relay.http, tenant.apiKey, { from: "alice@example.com", to, subject: "s", text: "x" });
}

async function state(id: string, address: string): Promise<string | undefined> {
  const res = await fetch(`${relay.http}/v1/messages/${id}`, { headers: auth() });
  const body = (await res.json()) as { recipients: { address: string; state: string }[] };
  return body.recipients.find((r) => r.address === address)?.state;
}

/** One SMTP transaction up to RCPT; returns each RCPT's reply. */
async function rcptReplies(to: string[]): Promise<string[]> {
  const c = await RawSmtp.open(relay.smtpPort);
  try {
    await c.replies(1);
    c.write("EHLO client.test\r\n");
    await c.replies(1);
    c.write("MAIL FROM:<alice@example.com>\r\n");
    expect((await c.replies(1))[0]).toStartWith("250");
    const out: string[] = [];
    for (const a of to) {
      c.write(`RCPT TO:<${a}>\r\n`);
      out.push((await c.replies(1))[0]!);
    }
    c.write("QUIT\r\n");
    return out;
  } finally {
    c.close();
  }
}

async function suppressed(): Promise<{ address: string; reason: string; expires_at: string | null; message_id: string | null }[]> {
  return JSON.parse(await cliOk(dir, ["suppression", "list", "acme", "--json"]));
}

const messageCount = async () => Number((await openDb(relay.dbUrl).execute("SELECT count(*) AS n FROM messages WHERE source = 'http'")).rows[0]!.n);

describe("suppression list", () => {
  test("550 5.1.1 from the upstream suppresses; the next RCPT gets 550 5.1.1, the next HTTP send lists it; removal re-activates", async () => {
    const res = await send(["gone@dest.test", "bob@dest.test"]);
    expect(res.status).toBe(202);
    const { id, suppressed: none } = (await res.json()) as { id: string; suppressed: string[] };
    expect(none).toEqual([]);
    await waitFor("bounce", async () => (await state(id, "gone@dest.test")) === "bounced");
    const list = await suppressed();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ address: "gone@dest.test", reason: "bounce", message_id: id });
    const days = (Date.parse(list[0]!.expires_at!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);

    const today = new Date().toISOString().slice(0, 10);
    const [gone, bob] = await rcptReplies(["Gone@dest.test", "bob@dest.test"]);
    expect(gone).toStartWith("550 5.1.1 ");
    expect(gone).toContain(today);
    expect(bob).toStartWith("250");

    const partial = await send(["gone@dest.test", "carol@dest.test"]);
    expect(partial.status).toBe(202);
    const p = (await partial.json()) as { id: string; suppressed: string[] };
    expect(p.suppressed).toEqual(["gone@dest.test"]);
    const st = (await (await fetch(`${relay.http}/v1/messages/${p.id}`, { headers: auth() })).json()) as { recipients: { address: string }[] };
    expect(st.recipients.map((r) => r.address)).toEqual(["carol@dest.test"]);

    const before = await messageCount();
    const all = await send(["gone@dest.test"]);
    expect(all.status).toBe(422);
    expect(((await all.json()) as { error: { code: string } }).error.code).toBe("all_suppressed");
    expect(await messageCount()).toBe(before);

    await cliOk(dir, ["suppression", "remove", "acme", "gone@dest.test"]);
    expect(await suppressed()).toEqual([]);
    expect((await rcptReplies(["gone@dest.test"]))[0]).toStartWith("250");
    const again = await send(["gone@dest.test"]);
    expect(again.status).toBe(202);
    expect(((await again.json()) as { suppressed: string[] }).suppressed).toEqual([]);
    // The re-sent message bounces again and is suppressed again: removal did not stop that.
    await waitFor("suppressed again", async () => (await suppressed()).length === 1);

    // The feed tells the same story, in order, with the upstream's reply as a value.
    const feed = (await (await fetch(`${relay.http}/v1/events`, { headers: auth() })).json()) as { data: { id: string; type: string; data: Record<string, unknown> }[]; next_cursor: string };
    const mine = feed.data.filter((e) => String(e.data.recipient ?? e.data.address).toLowerCase() === "gone@dest.test");
    expect(mine.map((e) => e.type)).toEqual(["message.bounced", "suppression.added", "message.suppressed", "message.suppressed", "message.suppressed", "suppression.removed", "message.bounced", "suppression.added"]);
    expect(mine[0]!.data).toMatchObject({ message_id: id, account: "acme", from: "alice@example.com", subject: "s", reply: { code: 550, enhanced: "5.1.1", text: "no such user here" }, attempt: 1, bounce_class: "recipient" });
    expect(mine[3]!.data).toMatchObject({ message_id: p.id, recipient: "gone@dest.test", reason: "bounce" });
    const after = (await (await fetch(`${relay.http}/v1/events?after=${feed.next_cursor}`, { headers: auth() })).json()) as { data: unknown[]; next_cursor: string };
    expect(after).toEqual({ data: [], next_cursor: feed.next_cursor });
    const paged = (await (await fetch(`${relay.http}/v1/events?limit=2`, { headers: auth() })).json()) as { data: { id: string }[]; next_cursor: string };
    const next = (await (await fetch(`${relay.http}/v1/events?limit=2&after=${paged.next_cursor}`, { headers: auth() })).json()) as { data: { id: string }[] };
    expect([...paged.data, ...next.data].map((e) => e.id)).toEqual(feed.data.slice(0, 4).map((e) => e.id));
  }, 60_000);

  test("a 550 5.7.1 policy refusal bounces but does not suppress", async () => {
    const res = await send(["blocked@dest.test"]);
    const { id } = (await res.json()) as { id: string };
    await waitFor("bounce", async () => (await state(id, "blocked@dest.test")) === "bounced");
    expect((await suppressed()).map((s) => s.address)).not.toContain("blocked@dest.test");
    expect((await rcptReplies(["blocked@dest.test"]))[0]).toStartWith("250");
  }, 30_000);

  test("manual and wildcard entries over HTTP: RCPT gets 550 5.7.1; GET, list by reason, DELETE", async () => {
    const add = await fetch(`${relay.http}/v1/suppressions`, { method: "POST", headers: auth(), body: JSON.stringify({ addresses: ["*@spam.test", "Dave@dest.test"] }) });
    expect(add.status).toBe(201);
    const added = (await add.json()) as { data: { address: string; reason: string; expires_at: string | null }[] };
    expect(added.data.map((d) => [d.address, d.reason, d.expires_at])).toEqual([
      ["*@spam.test", "manual", null],
      ["dave@dest.test", "manual", null],
    ]);
    const [wild, dave, other] = await rcptReplies(["anyone@spam.test", "dave@dest.test", "erin@dest.test"]);
    expect(wild).toStartWith("550 5.7.1 ");
    expect(await (await fetch(`${relay.http}/metrics`)).text()).toMatch(/smarthost_submissions_rejected_total\{reason="suppressed"\} [1-9]/);
    expect(dave).toStartWith("550 5.7.1 ");
    expect(other).toStartWith("250");

    const one = await fetch(`${relay.http}/v1/suppressions/${encodeURIComponent("*@spam.test")}`, { headers: auth() });
    expect(((await one.json()) as { reason: string }).reason).toBe("manual");
    const manual = (await (await fetch(`${relay.http}/v1/suppressions?reason=manual&limit=1`, { headers: auth() })).json()) as { data: { address: string }[]; next_cursor: string };
    expect(manual.data).toHaveLength(1);
    const rest = (await (await fetch(`${relay.http}/v1/suppressions?reason=manual&limit=1&cursor=${manual.next_cursor}`, { headers: auth() })).json()) as { data: { address: string }[]; next_cursor: string | null };
    expect([...manual.data, ...rest.data].map((d) => d.address).sort()).toEqual(["*@spam.test", "dave@dest.test"]);
    expect(rest.next_cursor).toBeNull();
    for (const q of ["cursor=bm90IGEgbnVtYmVy", "cursor=%%%", "reason=spam", "limit=0"]) {
      const res = await fetch(`${relay.http}/v1/suppressions?${q}`, { headers: auth() });
      expect(res.status).toBe(400);
    }

    expect((await fetch(`${relay.http}/v1/suppressions/dave@dest.test`, { method: "DELETE", headers: auth() })).status).toBe(204);
    expect((await fetch(`${relay.http}/v1/suppressions/dave@dest.test`, { headers: auth() })).status).toBe(404);
    expect((await rcptReplies(["dave@dest.test"]))[0]).toStartWith("250");

    const bad = await fetch(`${relay.http}/v1/suppressions`, { method: "POST", headers: auth(), body: JSON.stringify({ addresses: Array.from({ length: 1001 }, (_, i) => `u${i}@x.test`) }) });
    expect(bad.status).toBe(400);
    const cliAdd = await cli(dir, ["suppression", "add", "acme", "not an address"]);
    expect(cliAdd.code).toBe(1);
    expect(cliAdd.stderr).toContain("error: not an address");
  }, 30_000);
});
