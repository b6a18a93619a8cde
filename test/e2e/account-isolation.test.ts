/**
 * What one account leaves behind and what it sees of others, against a real relay with a
 * real upstream (smtp-server) and webhook receivers on loopback: a removed account's
 * endpoint, suppressions and events go with it and its receiver hears nothing more; a
 * route event reaches only the accounts that used the route, without another tenant's
 * recipients, message ids or reply texts.
 */
import { afterEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { addTenant, cliOk, openDb, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { startUpstream, type Upstream, type UpstreamOptions } from "../support/upstream.ts";
import { startReceiver, type Receiver } from "../support/webhook-receiver.ts";
import { waitFor } from "../support/wait.ts";

const ADMIN_TOKEN = "isolation-admin-token-0123456789abcdef";
const HOOK_ENV = { SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: "true", SMARTHOST_WEBHOOK_RETRY_SECONDS: "1,1,1,1,1,1,1,1,1,1" };

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function world(upstreamOpts: UpstreamOptions): Promise<{ dir: string; upstream: Upstream; env: Record<string, string> }> {
  const dir = tempDir();
  cleanup.push(() => removeDir(dir));
  const upstream = await startUpstream(upstreamOpts);
  cleanup.push(() => upstream.close());
  const ca = join(dir, "upstream-ca.pem");
  writeFileSync(ca, upstream.cert);
  const env = { ...HOOK_ENV, SMARTHOST_ADMIN_TOKEN: ADMIN_TOKEN, SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_RETRY_BASE_SECONDS: "1", SMARTHOST_UPSTREAM_CA_FILE: ca };
  return { dir, upstream, env };
}

async function relay(dir: string, env: Record<string, string>): Promise<Relay> {
  const r = await startRelay(dir, env);
  cleanup.push(() => r.stop());
  return r;
}

function receiver(respond?: Receiver["respond"]): Receiver {
  const r = startReceiver(0, respond);
  cleanup.push(() => r.stop());
  return r;
}

async function send(r: Relay, t: Tenant, to: string, from = "alice@example.com"): Promise<string> {
  const res = await fetch(`${r.http}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${t.apiKey}` }, body: JSON.stringify({ from, to: [to], subject: "hello", text: "x" }) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

const admin = (r: Relay, method: string, path: string) => fetch(`${r.http}/v1/admin${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
const types = (rcv: Receiver) => rcv.received.map((h) => (JSON.parse(h.body) as { type: string }).type);

async function feed(r: Relay, t: Tenant): Promise<{ type: string; data: Record<string, unknown> }[]> {
  const res = await fetch(`${r.http}/v1/events?after=evt_0&limit=1000`, { headers: { authorization: `Bearer ${t.apiKey}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { type: string; data: Record<string, unknown> }[] }).data;
}

test("removing an account removes its endpoint, suppressions, events and mail, and its receiver gets no POST afterwards", async () => {
  const w = await world({ onRcpt: (a) => (a.startsWith("later") ? { code: 451, message: "4.3.0 try again later" } : null) });
  const gone = await addTenant(w.dir, { account: "gone", username: "gone-user" });
  const stay = await addTenant(w.dir, { account: "stay", username: "stay-user" });
  await cliOk(w.dir, ["route", "add", "*", `smtp://127.0.0.1:${w.upstream.port}?tls=required`]);
  // The removed account's receiver fails every request: its deliveries stay pending and are retried each second.
  const goneHooks = receiver(() => [500]);
  const stayHooks = receiver();
  await cliOk(w.dir, ["webhook", "add", "gone", goneHooks.url], HOOK_ENV);
  await cliOk(w.dir, ["webhook", "add", "stay", stayHooks.url], HOOK_ENV);
  await cliOk(w.dir, ["suppression", "add", "gone", "blocked@example.net"], HOOK_ENV);
  const r = await relay(w.dir, w.env);
  const db = openDb(r.dbUrl);
  cleanup.push(() => db.close());
  const goneId = String((await db.execute("SELECT id FROM accounts WHERE name = 'gone'")).rows[0]!.id);

  // Mail that keeps being deferred: its events and their webhook retries keep coming.
  await send(r, gone, "later@example.net");
  await waitFor("the removed account's receiver to be retried", () => goneHooks.received.length >= 2);

  const res = await admin(r, "DELETE", "/accounts/gone?force=true");
  expect(res.status).toBe(200);
  expect(((await (await admin(r, "GET", "/webhooks")).json()) as { account: string }[]).map((e) => e.account)).toEqual(["stay"]);
  expect(((await (await admin(r, "GET", "/suppressions")).json()) as unknown[]).length).toBe(0);
  for (const table of ["webhook_endpoints", "suppressions", "account_events", "messages", "api_keys", "smtp_credentials", "rate_counters"]) {
    const n = Number((await db.execute({ sql: `SELECT count(*) AS n FROM ${table} WHERE account_id = ?`, args: [goneId] })).rows[0]!.n);
    expect([table, n]).toEqual([table, 0]);
  }
  expect(Number((await db.execute("SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id NOT IN (SELECT id FROM webhook_endpoints)")).rows[0]!.n)).toBe(0);

  // Bounded by the other account's events: its mail deferred twice spans more than one retry
  // interval of the removed account's webhooks and mail. A request already under way when
  // the account went may still land before the first of them; nothing may land after it.
  await send(r, stay, "later-stay@example.net");
  await waitFor("the other account's first deferral", () => types(stayHooks).filter((t) => t === "message.deferred").length >= 1);
  const seen = goneHooks.received.length;
  await waitFor("the other account's second deferral", () => types(stayHooks).filter((t) => t === "message.deferred").length >= 2);
  expect(goneHooks.received.length).toBe(seen);
  expect(r.logs()).not.toContain("FOREIGN KEY constraint failed");
}, 60_000);

test("a route event reaches only accounts that used the route, and never another tenant's recipient, sender or reply text", async () => {
  const SECRET = "poison-b-secret-customer";
  const w = await world({
    extra: {
      // Route-level evidence: the relay refuses the whole transaction at MAIL, and says whose mail it was.
      onMailFrom: (a, _s, cb) =>
        a.address.startsWith("b-secret-sender")
          ? cb(Object.assign(new Error(`4.7.0 <b-secret-sender@example.com> for <${SECRET}@shared.test> refused by policy`), { responseCode: 454 }))
          : cb(),
    },
  });
  const a = await addTenant(w.dir, { account: "tenant-a", username: "a-user" });
  const b = await addTenant(w.dir, { account: "tenant-b", username: "b-user" });
  const c = await addTenant(w.dir, { account: "tenant-c", username: "c-user" });
  await cliOk(w.dir, ["route", "add", "shared.test", `smtp://127.0.0.1:${w.upstream.port}?tls=required`]);
  const aHooks = receiver();
  const cHooks = receiver();
  await cliOk(w.dir, ["webhook", "add", "tenant-a", aHooks.url, "--events", "route.degraded,message.delivered"], HOOK_ENV);
  await cliOk(w.dir, ["webhook", "add", "tenant-c", cHooks.url, "--events", "route.degraded"], HOOK_ENV);
  const r = await relay(w.dir, w.env);

  // A uses the route; C never does.
  await send(r, a, "someone@shared.test");
  await waitFor("A's mail delivered by the route", () => types(aHooks).includes("message.delivered"));

  const bIds: string[] = [];
  for (let i = 0; i < 4; i++) bIds.push(await send(r, b, `${SECRET}@shared.test`, "b-secret-sender@example.com"));
  await waitFor("A to hear the route went down", () => types(aHooks).includes("route.degraded"));

  // The operators see the whole reply.
  const ops = (await (await admin(r, "GET", "/routes/events")).json()) as { type: string; data: { reply?: { text: string } } }[];
  expect(ops.find((e) => e.type === "route.degraded")?.data.reply?.text).toContain(SECRET);

  // A's copy: the route and the codes, nothing of B's.
  const hook = aHooks.received.find((h) => (JSON.parse(h.body) as { type: string }).type === "route.degraded")!;
  const copy = JSON.parse(hook.body) as { data: { route: string; reply: { code: number; enhanced: string; text?: string } } };
  expect(copy.data.route).toBe(`smtp://127.0.0.1:${w.upstream.port}`);
  expect(copy.data.reply).toEqual({ code: 454, enhanced: "4.7.0" });
  const aFeed = await feed(r, a);
  expect(aFeed.map((e) => e.type)).toContain("route.degraded");
  for (const text of [...aHooks.received.map((h) => h.body), JSON.stringify(aFeed)]) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("b-secret-sender");
    expect(text).not.toContain("refused by policy");
    for (const id of bIds) expect(text).not.toContain(id);
  }
  // C asked for route events but sent nothing by the route: its copy would sit beside A's in
  // the same commit, so its absence now is final.
  expect((await feed(r, c)).map((e) => e.type)).not.toContain("route.degraded");
  expect(cHooks.received.length).toBe(0);
}, 60_000);
