/**
 * Webhooks end to end: a relay delivering to a real upstream (smtp-server), and a receiver
 * on loopback that verifies every request with the `standardwebhooks` package.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import type { Client } from "@libsql/client";
import { addTenant, cliOk, openDb, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { startReceiver, type ReceivedHook, type Receiver } from "../support/webhook-receiver.ts";
import { freeTcpPort } from "../support/ports.ts";
import { waitFor } from "../support/wait.ts";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Setup {
  dir: string;
  tenant: Tenant;
  upstream: Upstream;
  env: Record<string, string>;
}

const HOOK_ENV = { SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: "true", SMARTHOST_WEBHOOK_RETRY_SECONDS: "1,1,1,1,1,1,1,1,1,1" };

async function setup(): Promise<Setup> {
  const dir = tempDir();
  cleanup.push(() => removeDir(dir));
  let later = 0;
  const upstream = await startUpstream({
    onRcpt: (a) => {
      if (a.startsWith("gone@")) return { code: 550, message: "5.1.1 no such user here" };
      if (a.startsWith("later@") && later++ === 0) return { code: 451, message: "4.3.0 try again later" };
      return null;
    },
  });
  cleanup.push(() => upstream.close());
  const tenant = await addTenant(dir);
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=required`]);
  const ca = join(dir, "upstream-ca.pem");
  writeFileSync(ca, upstream.cert);
  const env = { ...HOOK_ENV, SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_RETRY_BASE_SECONDS: "1", SMARTHOST_UPSTREAM_CA_FILE: ca };
  return { dir, tenant, upstream, env };
}

async function relay(s: Setup): Promise<Relay> {
  const r = await startRelay(s.dir, s.env);
  cleanup.push(() => r.stop());
  return r;
}

/** One libSQL client per database for the test, closed after it (not one per poll). */
const clients = new Map<string, Client>();
function db(url: string): Client {
  const open = clients.get(url);
  if (open) return open;
  const client = openDb(url);
  clients.set(url, client);
  cleanup.push(() => {
    client.close();
    clients.delete(url);
  });
  return client;
}

function receiver(port = 0, respond?: Receiver["respond"]): Receiver {
  const r = startReceiver(port, respond);
  cleanup.push(() => r.stop());
  return r;
}

/** `webhook add` through the CLI; returns the id and the secret printed once. */
async function addWebhook(s: Setup, url: string, events?: string): Promise<{ id: string; secret: string }> {
  const secret = await cliOk(s.dir, ["webhook", "add", "acme", url, ...(events ? ["--events", events] : [])], HOOK_ENV);
  const list = JSON.parse(await cliOk(s.dir, ["webhook", "list", "acme", "--json"], HOOK_ENV)) as { id: string; url: string }[];
  return { id: list.find((w) => w.url === url)!.id, secret };
}

async function send(r: Relay, key: string, to: string, subject = "hello"): Promise<string> {
  const res = await fetch(`${r.http}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ from: "alice@example.com", to: [to], subject, text: "x" }) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

interface Payload {
  type: string;
  timestamp: string;
  data: { message_id: string; recipient: string; reply: { code: number; enhanced: string | null; text: string }; attempt: number; route: string; subject: string; bounce_class?: string; from: string; account: string };
}

const verified = (secret: string, h: ReceivedHook) => new Webhook(secret).verify(h.body, h.headers) as Payload;

const pendingDeliveries = async (r: Relay) => Number((await db(r.dbUrl).execute("SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'pending'")).rows[0]!.n);

describe("webhooks", () => {
  test("delivered, deferred (451) and bounced (550) each arrive once, signed so standardwebhooks verifies them", async () => {
    const s = await setup();
    const hook = receiver();
    const { secret } = await addWebhook(s, hook.url, "message.delivered,message.deferred,message.bounced");
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const r = await relay(s);
    const ok = await send(r, s.tenant.apiKey, "ok@dest.test", "first");
    const later = await send(r, s.tenant.apiKey, "later@dest.test", "second");
    const gone = await send(r, s.tenant.apiKey, "gone@dest.test", "third");
    await waitFor("four webhooks", () => hook.received.length >= 4 || undefined);
    await waitFor("every delivery recorded", async () => (await pendingDeliveries(r)) === 0);
    expect(hook.received).toHaveLength(4);
    const got = hook.received.map((h) => verified(secret, h));
    const key = (p: Payload) => `${p.type} ${p.data.message_id}`;
    expect(got.map(key).sort()).toEqual([`message.bounced ${gone}`, `message.deferred ${later}`, `message.delivered ${later}`, `message.delivered ${ok}`].sort());
    expect(new Set(hook.received.map((h) => h.headers["webhook-id"])).size).toBe(4);

    const delivered = got.find((p) => key(p) === `message.delivered ${ok}`)!;
    expect(delivered.data).toMatchObject({ account: "acme", from: "alice@example.com", recipient: "ok@dest.test", subject: "first", attempt: 1, reply: { code: 250 } });
    expect(delivered.data.route).toStartWith("smtp://127.0.0.1:");
    const deferred = got.find((p) => p.type === "message.deferred")!;
    expect(deferred.data).toMatchObject({ recipient: "later@dest.test", attempt: 1, reply: { code: 451, enhanced: "4.3.0", text: "try again later" } });
    expect(got.find((p) => key(p) === `message.delivered ${later}`)!.data.attempt).toBe(2);
    const bounced = got.find((p) => p.type === "message.bounced")!;
    expect(bounced.data).toMatchObject({ recipient: "gone@dest.test", bounce_class: "recipient", reply: { code: 550, enhanced: "5.1.1", text: "no such user here" } });

    // The pull feed carries the same payloads under the same ids.
    const feed = (await (await fetch(`${r.http}/v1/events`, { headers: { authorization: `Bearer ${s.tenant.apiKey}` } })).json()) as { data: (Payload & { id: string })[] };
    for (const h of hook.received) {
      const item = feed.data.find((e) => e.id === h.headers["webhook-id"])!;
      expect({ type: item.type, timestamp: item.timestamp, data: item.data }).toEqual(JSON.parse(h.body));
    }
    // A signature made with another secret is refused by the same verifier.
    expect(() => new Webhook(`whsec_${btoa("x".repeat(32))}`).verify(hook.received[0]!.body, hook.received[0]!.headers)).toThrow();
  }, 60_000);

  test("receiver down, then up: retried and delivered; every attempt is logged", async () => {
    const s = await setup();
    const port = await freeTcpPort();
    const { id, secret } = await addWebhook(s, `http://127.0.0.1:${port}/hook`, "message.delivered");
    const r = await relay(s);
    const msg = await send(r, s.tenant.apiKey, "ok@dest.test");
    const auth = { authorization: `Bearer ${s.tenant.apiKey}` };
    type Deliveries = { data: { id: number; state: string; attempts: number; attempt_log: { status: number | null; response: string; latency_ms: number }[] }[] };
    await waitFor("two failed attempts", async () => {
      const d = (await (await fetch(`${r.http}/v1/webhooks/${id}/deliveries`, { headers: auth })).json()) as Deliveries;
      return (d.data[0]?.attempt_log.length ?? 0) >= 2 || undefined;
    });
    const hook = receiver(port);
    await waitFor("webhook after the receiver came up", () => hook.received.length >= 1 || undefined);
    expect(verified(secret, hook.received[0]!).data.message_id).toBe(msg);
    const d = await waitFor("delivered row", async () => {
      const v = (await (await fetch(`${r.http}/v1/webhooks/${id}/deliveries`, { headers: auth })).json()) as Deliveries;
      return v.data[0]?.state === "delivered" ? v : undefined;
    });
    const log = d.data[0]!.attempt_log;
    expect(log.length).toBeGreaterThanOrEqual(3);
    expect(log.slice(0, -1).every((a) => a.status === null && a.response.length > 0)).toBe(true);
    expect(log.at(-1)).toMatchObject({ status: 200, response: "ok" });

    // Replay sends the same event again under the same webhook-id.
    const replay = await fetch(`${r.http}/v1/webhooks/deliveries/${d.data[0]!.id}/replay`, { method: "POST", headers: auth });
    expect(replay.status).toBe(202);
    await waitFor("replayed", () => hook.received.length >= 2 || undefined);
    expect(hook.received[1]!.headers["webhook-id"]).toBe(hook.received[0]!.headers["webhook-id"]);
    expect((await fetch(`${r.http}/v1/webhooks/deliveries/999999/replay`, { method: "POST", headers: auth })).status).toBe(404);
  }, 60_000);

  test("410 Gone disables the endpoint (with an event); a healthy endpoint goes on", async () => {
    const s = await setup();
    const gone = receiver(0, () => [410]);
    const healthy = receiver();
    const g = await addWebhook(s, gone.url, "message.delivered");
    const h = await addWebhook(s, healthy.url.replace("/hook", "/other"), "message.delivered,webhook.disabled");
    const r = await relay(s);
    await send(r, s.tenant.apiKey, "ok@dest.test");
    await waitFor("410 seen", () => gone.received.length >= 1 || undefined);
    const disabled = await waitFor("healthy endpoint told", () => healthy.received.map((x) => verified(h.secret, x)).find((p) => p.type === "webhook.disabled"));
    expect(disabled.data).toMatchObject({ webhook_id: g.id });
    const list = JSON.parse(await cliOk(s.dir, ["webhook", "list", "--json"], HOOK_ENV)) as { id: string; enabled: boolean; disabled_reason: string }[];
    expect(list.find((w) => w.id === g.id)).toMatchObject({ enabled: false, disabled_reason: "the endpoint answered 410 Gone" });
    const second = await send(r, s.tenant.apiKey, "ok@dest.test");
    await waitFor("second message to the healthy endpoint", () => healthy.received.some((x) => verified(h.secret, x).data.message_id === second) || undefined);
    expect(gone.received).toHaveLength(1);
    // A disabled endpoint is given no new deliveries.
    const rows = await db(r.dbUrl).execute({ sql: "SELECT state FROM webhook_deliveries WHERE endpoint_id = ?", args: [g.id] });
    expect(rows.rows.map((x) => x.state)).toEqual(["failed"]);
  }, 60_000);

  test("rotation: two signatures for 24 h, each verifies with its own secret", async () => {
    const s = await setup();
    const hook = receiver();
    const { id, secret: old } = await addWebhook(s, hook.url, "message.delivered");
    const rotated = await cliOk(s.dir, ["webhook", "rotate", id], HOOK_ENV);
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(old);
    const r = await relay(s);
    await send(r, s.tenant.apiKey, "ok@dest.test");
    await waitFor("webhook", () => hook.received.length >= 1 || undefined);
    const h = hook.received[0]!;
    expect(h.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(verified(old, h).type).toBe("message.delivered");
    expect(verified(rotated, h).type).toBe("message.delivered");
    // Rotating over HTTP too: the secret is shown in that answer and never in a listing.
    const res = await fetch(`${r.http}/v1/webhooks/${id}/rotate`, { method: "POST", headers: { authorization: `Bearer ${s.tenant.apiKey}` } });
    const again = ((await res.json()) as { secret: string }).secret;
    expect(again).toMatch(/^whsec_/);
    const listing = await (await fetch(`${r.http}/v1/webhooks`, { headers: { authorization: `Bearer ${s.tenant.apiKey}` } })).text();
    expect(listing).not.toContain(again.slice(6, 20));
    expect(listing).toContain(id);
    const stored = String((await db(r.dbUrl).execute({ sql: "SELECT secret FROM webhook_endpoints WHERE id = ?", args: [id] })).rows[0]!.secret);
    expect(stored).toStartWith("enc:v1:");
    expect(stored).not.toContain(again.slice(6, 20));
  }, 60_000);

  test("kill -9 between the event and the webhook: it still arrives after restart", async () => {
    const s = await setup();
    const port = await freeTcpPort();
    const { secret } = await addWebhook(s, `http://127.0.0.1:${port}/hook`, "message.delivered");
    const first = await startRelay(s.dir, s.env);
    cleanup.push(() => first.stop());
    const msg = await send(first, s.tenant.apiKey, "ok@dest.test");
    // The outcome, its event and the webhook row commit together; nothing has been received.
    await waitFor("event committed", async () => Number((await db(first.dbUrl).execute("SELECT count(*) AS n FROM webhook_deliveries")).rows[0]!.n) === 1);
    await first.kill9();
    const hook = receiver(port);
    const second = await relay(s);
    await waitFor("webhook after restart", () => hook.received.length >= 1 || undefined, 45_000);
    expect(verified(secret, hook.received[0]!).data.message_id).toBe(msg);
    void second;
  }, 60_000);

  test("URLs: https only and no private addresses unless allowed; unknown event types refused", async () => {
    const s = await setup();
    const r = await relay({ ...s, env: { ...s.env, SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: "false" } });
    const post = (body: unknown) => fetch(`${r.http}/v1/webhooks`, { method: "POST", headers: { authorization: `Bearer ${s.tenant.apiKey}` }, body: JSON.stringify(body) });
    for (const url of ["http://hooks.example.com/x", "https://127.0.0.1/x", "https://[::1]/x", "https://10.1.2.3/x", "https://localhost/x", "https://user:pw@hooks.example.com/x"]) {
      const res = await post({ url });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_webhook");
    }
    expect((await post({ url: "https://hooks.example.com/x", events: ["message.exploded"] })).status).toBe(400);
    const ok = await post({ url: "https://hooks.example.com/x", events: ["message.bounced"] });
    expect(ok.status).toBe(201);
    const created = (await ok.json()) as { id: string; secret: string; events: string[] };
    expect(created.events).toEqual(["message.bounced"]);
    const patched = await fetch(`${r.http}/v1/webhooks/${created.id}`, { method: "PATCH", headers: { authorization: `Bearer ${s.tenant.apiKey}` }, body: JSON.stringify({ events: null, enabled: false }) });
    expect(await patched.json()).toMatchObject({ events: null, enabled: false });
    expect((await fetch(`${r.http}/v1/webhooks/${created.id}`, { method: "DELETE", headers: { authorization: `Bearer ${s.tenant.apiKey}` } })).status).toBe(204);
    expect((await fetch(`${r.http}/v1/webhooks/${created.id}`, { headers: { authorization: `Bearer ${s.tenant.apiKey}` } })).status).toBe(404);
  }, 30_000);
});
