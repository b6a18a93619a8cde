/**
 * The admin API on a running relay: every verb over HTTP with the admin token, the same
 * validation and errors as the CLI, acting at once on the relay that serves it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cli, cliOk, openDb, removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";
import { smtplibLogin } from "../support/python.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";

const TOKEN = "admin-token-for-tests-0123456789abcdef";
const DEFER = { code: 451, message: "4.3.0 try again later" };

let dir: string;
let relay: Relay;
let upstream: Upstream;
/** Recipients the upstream defers once (451 at RCPT), then accepts. */
const deferOnce = new Set<string>();

beforeAll(async () => {
  dir = tempDir();
  upstream = await startUpstream({ onRcpt: (address) => (deferOnce.delete(address) ? DEFER : null) });
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=none`]);
  relay = await startRelay(dir, { SMARTHOST_ADMIN_TOKEN: TOKEN, SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_RETRY_BASE_SECONDS: "3600" });
});
afterAll(async () => {
  await relay?.stop();
  await upstream?.close();
  if (dir) removeDir(dir);
});

async function admin(method: string, path: string, body?: unknown, token = TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${relay.http}/v1/admin${path}`, { method, headers: { authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function ok(method: string, path: string, body?: unknown, status = 200): Promise<any> {
  const r = await admin(method, path, body);
  if (r.status !== status) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const arrived = (subject: string) => upstream.received.filter((r) => r.mailFrom !== "" && r.raw.toString("utf8").includes(`Subject: ${subject}\r\n`));

let apiKey = "";
async function submit(subject: string, to = ["bob@dest.test"], key = apiKey): Promise<Response> {
  return fetch(`${relay.http}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ from: "alice@example.com", to, subject, text: "hi" }) });
}

async function deferred(subject: string, to = [`${subject.replace(/\W+/g, "-")}@dest.test`]): Promise<string> {
  for (const a of to) deferOnce.add(a);
  const res = await submit(subject, to);
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  await waitFor(`${subject} deferred`, async () => {
    const t = await ok("GET", `/queue/${id}`);
    return t.recipients.every((r: { state: string }) => r.state === "deferred") || undefined;
  });
  return id;
}

const login = (user: string, password: string) => smtplibLogin(relay.smtpPort, user, password);

describe("objects", () => {
  test("accounts: create, list, show, update, remove (refused while mail is queued)", async () => {
    expect(await ok("POST", "/accounts", { name: "acme", per_minute: 100 }, 201)).toMatchObject({ name: "acme", per_minute: 100, per_day: null });
    expect(await admin("POST", "/accounts", { name: "acme" })).toEqual({ status: 409, body: { error: { code: "conflict", message: 'account "acme" already exists' } } });
    expect(await admin("POST", "/accounts", { name: "x", per_day: 0 })).toEqual({ status: 400, body: { error: { code: "invalid_field", message: "per_day: per_day must be at least 1", field: "per_day" } } });
    expect((await admin("POST", "/accounts", { name: "x", colour: "red" })).body.error).toEqual({ code: "invalid_field", message: 'colour: unknown field "colour"', field: "colour" });
    expect((await ok("GET", "/accounts")).map((a: { name: string }) => a.name)).toEqual(["acme"]);
    expect(await ok("PATCH", "/accounts/acme", { per_minute: null, per_day: 1000 })).toMatchObject({ per_minute: null, per_day: 1000, recipients_per_day: null });
    // The CLI's --recipients-per-day, on create and update.
    expect(await ok("POST", "/accounts", { name: "bulk", recipients_per_day: 500 }, 201)).toMatchObject({ name: "bulk", recipients_per_day: 500 });
    expect(await ok("PATCH", "/accounts/bulk", { recipients_per_day: 2 })).toMatchObject({ recipients_per_day: 2 });
    await ok("POST", "/senders", { account: "bulk", pattern: "example.com" }, 201);
    const bulkKey = (await ok("POST", "/keys", { account: "bulk" }, 201)).key as string;
    const over = await submit("three recipients", ["r1@dest.test", "r2@dest.test", "r3@dest.test"], bulkKey);
    expect([over.status, ((await over.json()) as { error: { code: string } }).error.code]).toEqual([400, "too_many_recipients"]);
    expect((await admin("PATCH", "/accounts/bulk", { recipients_per_day: 0 })).body.error.field).toBe("recipients_per_day");
    expect(await ok("PATCH", "/accounts/bulk", { recipients_per_day: null })).toMatchObject({ recipients_per_day: null });
    await ok("DELETE", "/accounts/bulk");
    expect((await ok("GET", "/accounts")).map((a: { name: string }) => a.name)).toEqual(["acme"]);
    expect(await admin("GET", "/accounts/nope")).toEqual({ status: 404, body: { error: { code: "not_found", message: 'no account named "nope"' } } });

    await ok("POST", "/accounts", { name: "temp" }, 201);
    await ok("POST", "/senders", { account: "temp", pattern: "example.com" }, 201);
    const key = (await ok("POST", "/keys", { account: "temp" }, 201)).key as string;
    deferOnce.add("temp@dest.test");
    expect((await submit("temp mail", ["temp@dest.test"], key)).status).toBe(202);
    await waitFor("temp mail deferred", async () => (await ok("GET", "/queue?account=temp&state=deferred")).length === 1 || undefined);
    const refused = await admin("DELETE", "/accounts/temp");
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('account "temp" has 1 message(s) still queued');
    expect(await ok("DELETE", "/accounts/temp?force=true")).toMatchObject({ name: "temp", api_keys: 1, senders: 1, dropped_recipients: 1 });
    expect((await submit("after removal", undefined, key)).status).toBe(401);
  });

  test("credentials: add, list, rotate (old 535, new 235), remove", async () => {
    const created = await ok("POST", "/credentials", { account: "acme", username: "app1" }, 201);
    expect(created.password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(await ok("GET", "/credentials?account=acme")).toEqual([{ username: "app1", account: "acme", created_at: expect.any(String) }]);
    expect(await login("app1", created.password)).toBe(235);
    const rotated = await ok("POST", "/credentials/app1/rotate", {});
    expect(await login("app1", created.password)).toBe(535);
    expect(await login("app1", rotated.password)).toBe(235);
    expect(await ok("POST", "/credentials/app1/rotate", { password: "chosen-password" })).toEqual({ username: "app1" });
    expect(await ok("DELETE", "/credentials/app1")).toEqual({ username: "app1" });
    expect((await admin("DELETE", "/credentials/app1")).status).toBe(404);
  });

  test("keys: add, list, revoke — 401 on the very next request", async () => {
    await ok("POST", "/senders", { account: "acme", pattern: "example.com" }, 201);
    const created = await ok("POST", "/keys", { account: "acme" }, 201);
    apiKey = created.key;
    const spare = (await ok("POST", "/keys", { account: "acme" }, 201)).key as string;
    expect((await submit("with the key", undefined, spare)).status).toBe(202);
    const { id } = (await ok("GET", "/keys")).find((k: { key?: string; id: string }) => spare.includes(`_${k.id}_`));
    expect(await ok("POST", `/keys/${id}/revoke`)).toMatchObject({ id, account: "acme", revoked_at: expect.any(String) });
    expect((await submit("revoked", undefined, spare)).status).toBe(401);
    expect((await admin("POST", `/keys/${id}/revoke`)).status).toBe(409);
    expect((await submit("other key still works")).status).toBe(202);
  });

  test("senders, networks and routes: add, list, remove; route passwords never shown", async () => {
    expect(await ok("GET", "/senders?account=acme")).toEqual([{ account: "acme", pattern: "example.com" }]);
    expect(await ok("POST", "/senders", { account: "acme", pattern: "*@Other.TEST" }, 201)).toEqual({ account: "acme", pattern: "*@other.test" });
    expect(await ok("POST", "/senders/remove", { account: "acme", pattern: "*@other.test" })).toEqual({ account: "acme", pattern: "*@other.test" });
    expect((await admin("POST", "/networks", { account: "acme", cidr: "not-a-net" })).status).toBe(400);
    expect(await ok("POST", "/networks", { account: "acme", cidr: "198.51.100.7" }, 201)).toEqual({ account: "acme", cidr: "198.51.100.7/32" });
    expect(await ok("GET", "/networks")).toEqual([{ account: "acme", cidr: "198.51.100.7/32" }]);
    expect(await ok("POST", "/networks/remove", { account: "acme", cidr: "198.51.100.7/32" })).toEqual({ account: "acme", cidr: "198.51.100.7/32" });
    const added = await ok("POST", "/routes", { domain: "Provider.TEST", url: "smtps://user:p@ss@smtp.provider.test:465" }, 201);
    expect(added).toEqual({ domain: "provider.test", position: 0, url: "smtps://***@smtp.provider.test:465" });
    const listed = await ok("GET", "/routes");
    expect(JSON.stringify(listed)).not.toContain("p@ss");
    expect(await ok("POST", "/routes/remove", { domain: "provider.test", url: "smtps://***@smtp.provider.test:465" })).toEqual({ ...added, queued: 0, now_via: `* -> smtp://127.0.0.1:${upstream.port}?tls=none` });
    expect((await admin("POST", "/routes", { domain: "x.test", url: "ftp://x" })).status).toBe(400);
  });
});

describe("the queue", () => {
  test("list, show, hold (not delivered when due), release, retry", async () => {
    const id = await deferred("api held");
    expect(await ok("POST", `/queue/${id}/hold`)).toEqual({ action: "hold", messages: 1, recipients: 1, in_delivery: 0, dsns: 0 });
    expect(await ok("GET", "/queue?state=held")).toEqual([expect.objectContaining({ id, state: "held", account: "acme", recipient: "api-held@dest.test" })]);
    const status = (await (await fetch(`${relay.http}/v1/messages/${id}`, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as { status: string };
    expect(status.status).toBe("held");
    expect(await (await fetch(`${relay.http}/metrics`)).text()).toContain('smarthost_queue_recipients{state="held"} 1');
    // The account says what it has still to deliver, and in which state: held, not "queued".
    // (Mail of the earlier tests may still be on its way: only the held count is this test's.)
    expect((await ok("GET", "/accounts/acme")).queued).toMatchObject({ held: 1, deferred: 0 });
    expect((await cli(dir, ["account", "show", "acme"])).stdout).toMatch(/\n {2}to deliver: {2}\d+ message\(s\), \d+ recipient\(s\): \d+ queued, 0 deferred, 1 held\n/);
    const db = openDb(relay.dbUrl);
    await db.execute({ sql: "UPDATE recipients SET next_attempt_at = 0 WHERE message_id = ?", args: [id] });
    db.close();
    expect((await submit("api meanwhile")).status).toBe(202);
    await waitFor("the other message", () => arrived("api meanwhile").length === 1);
    expect(arrived("api held")).toHaveLength(0);
    await ok("POST", `/queue/${id}/release`);
    await waitFor("delivered after release", () => arrived("api held").length === 1);

    const later = await deferred("api retry");
    await ok("POST", `/queue/${later}/retry`);
    await waitFor("delivered after retry", () => arrived("api retry").length === 1, 10_000);
    const trace = await ok("GET", `/queue/${later}`);
    expect(trace.events.map((e: { type: string }) => e.type)).toEqual(["accepted", "deferred", "retried", "delivered"]);
    expect(trace.events[1].detail).toContain("451 4.3.0 try again later");
    expect((await admin("GET", "/queue/nope")).status).toBe(404);
  });

  test("delete with bounce sends one DSN; bulk actions count first and act with yes", async () => {
    const id = await deferred("api delete", ["a@dest.test", "b@dest.test"]);
    expect(await ok("POST", `/queue/${id}/delete`, { bounce: true })).toEqual({ action: "delete", messages: 1, recipients: 2, in_delivery: 0, dsns: 1 });
    const dsn = await waitFor("the DSN", () => upstream.received.find((r) => r.mailFrom === "" && r.raw.toString("utf8").includes(`X-Smarthost-Queue-ID: ${id}`)));
    expect(dsn.rcptTo).toEqual(["alice@example.com"]);
    expect(upstream.received.filter((r) => r.mailFrom === "")).toHaveLength(1);

    await deferred("bulk 1", ["x@bulk.test"]);
    await deferred("bulk 2", ["y@bulk.test"]);
    expect(await ok("POST", "/queue/hold", { domain: "bulk.test" })).toEqual({ acted: false, messages: 2, recipients: 2 });
    expect(await ok("POST", "/queue/hold", { domain: "bulk.test", yes: true })).toMatchObject({ messages: 2, recipients: 2 });
    expect(await ok("POST", "/queue/delete", { domain: "bulk.test", state: "held", yes: true })).toMatchObject({ messages: 2, recipients: 2, dsns: 0 });
    expect(await ok("GET", "/queue?domain=bulk.test")).toEqual([]);
    await deferred("limit 1", ["l1@limit.test"]);
    await deferred("limit 2", ["l2@limit.test"]);
    expect(await ok("GET", "/queue?domain=limit.test&limit=1")).toEqual([expect.objectContaining({ recipient: "l1@limit.test" })]);
    expect((await admin("GET", "/queue?limit=0")).body.error.field).toBe("limit");
    expect((await admin("POST", "/queue/hold", {})).body).toEqual({ error: { code: "invalid", message: "give a filter (state, account, domain) or, for retry, all" } });
  });
});

describe("validation errors name the field", () => {
  test("a required field missing, a field unknown, a body that is no object: 400 JSON naming it", async () => {
    const invalid = (field: string, message: string) => ({ status: 400, body: { error: { code: "invalid_field", message, field } } });
    expect(await admin("POST", "/accounts", {})).toEqual(invalid("name", "name: name is required"));
    expect(await admin("POST", "/shapes", { patern: "example.org" })).toEqual(invalid("pattern", "pattern: pattern is required"));
    expect(await admin("POST", "/shapes", { pattern: "example.org", conections: 2 })).toEqual(invalid("conections", 'conections: unknown field "conections"'));
    expect(await admin("POST", "/routes/quota", { url: "mx", per_day: 5 })).toEqual(invalid("domain", "domain: domain is required"));
    expect(await admin("POST", "/return-paths", { domain: "example.com" })).toEqual(invalid("return_domain", "return_domain: return_domain is required"));
    expect(await admin("POST", "/keys", null)).toEqual(invalid("body", "expected a JSON object, received null"));
  });
});

describe("the token", () => {
  test("a wrong token gets 401; repeated failures are throttled like SMTP AUTH (429)", async () => {
    expect(await admin("GET", "/accounts", undefined, "wrong")).toEqual({ status: 401, body: { error: { code: "unauthenticated", message: "Missing or invalid admin token" } } });
    const res = await fetch(`${relay.http}/v1/admin/accounts`);
    expect(res.status).toBe(401);
    for (let i = 0; i < 5; i++) await admin("GET", "/accounts", undefined, `wrong-${i}`);
    const blocked = await fetch(`${relay.http}/v1/admin/accounts`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe("auth_throttled");
  });
});
