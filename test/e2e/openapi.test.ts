/**
 * /openapi.json and /docs: the document is sound OpenAPI 3.1, describes every route the
 * app serves (admin included), keeps our error shape, and its examples work as requests.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Hono } from "hono";
import { loadConfig } from "../../src/config.ts";
import type { Database } from "../../src/db/client.ts";
import { createGatewayStack } from "../../src/stack.ts";
import { GroupCommit } from "../../src/db/group-commit.ts";
import { openDatabase } from "../../src/runtime/bun-db.ts";
import { EVENT_TYPES } from "../../src/events/types.ts";
import { COMMANDS } from "../../src/cli/commands.ts";
import { Validator } from "@seriousme/openapi-schema-validator";
import { checkBeyondSchema } from "../support/openapi-check.ts";
import { resolveRef, schemaChecker } from "../support/openapi-responses.ts";
import { removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";

const TOKEN = "admin-token-for-openapi-0123456789abcdef";
type Obj = Record<string, any>;

let dir: string;
let database: Database;
const apps: Record<"admin" | "plain", Hono> = {} as never;
let relay: Relay;

beforeAll(async () => {
  dir = tempDir();
  const url = `file:${join(dir, "app.db")}`;
  database = await openDatabase(url);
  const writer = new GroupCommit(database.sql);
  const stack = (extra: Record<string, string>) =>
    createGatewayStack({ config: loadConfig({ SMARTHOST_DB_URL: url, ...extra }), database, writer, hostname: "relay.test", log: () => {} }).app;
  // With every optional part on, so the document must cover them all.
  apps.admin = stack({ SMARTHOST_ADMIN_TOKEN: TOKEN, SMARTHOST_GATEWAY_TOKEN: "g".repeat(40), SMARTHOST_SECRET_KEY: Buffer.alloc(32, 3).toString("base64"), SMARTHOST_PUBLIC_URL: "https://relay.example.net" });
  apps.plain = stack({});
  relay = await startRelay(tempDir(), { SMARTHOST_ADMIN_TOKEN: TOKEN, SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: "true" });
});
afterAll(async () => {
  await relay?.stop();
  if (relay) removeDir(relay.dir);
  database?.close();
  if (dir) removeDir(dir);
});

const docOf = async (app: Hono) => (await (await app.request("/openapi.json")).json()) as Obj;

/** The OpenAPI validator's verdict (the 3.1 JSON Schema, every $ref resolved) and the rules it cannot express. */
async function problems(doc: Obj): Promise<unknown[]> {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(doc));
  if (validator.version !== "3.1") return [`not OpenAPI 3.1: ${validator.version}`];
  return [...(result.valid ? [] : [result.errors]), ...checkBeyondSchema(doc)];
}

test("the document is valid OpenAPI 3.1 (by an OpenAPI validator) and every route the app serves is in it", async () => {
  const doc = await docOf(apps.admin);
  expect(await problems(doc)).toEqual([]);
  expect(await problems(await docOf(apps.plain))).toEqual([]);
  // The checks can fail: a response without its description, a dangling $ref, an undeclared path parameter.
  const broken = structuredClone(doc);
  delete broken.paths["/v1/suppressions"].get.responses["200"].description;
  expect(await problems(broken)).not.toEqual([]);
  const dangling = structuredClone(doc);
  dangling.paths["/v1/events"].get.responses["400"] = { $ref: "#/components/responses/Nope" };
  expect(await problems(dangling)).not.toEqual([]);
  const undeclared = structuredClone(doc);
  undeclared.paths["/v1/webhooks/{id}"].get.parameters = [];
  expect(await problems(undeclared)).toEqual(["GET /v1/webhooks/{id}: {id} is not a declared path parameter"]);
  const documented = new Set(Object.entries(doc.paths as Obj).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`)));
  const served = new Set(
    apps.admin.routes
      .filter((r) => r.method !== "ALL")
      // Between the relay's own nodes (ingress → gateway), and the dashboard's HTML pages: not an API, left out on purpose.
      .filter((r) => !r.path.startsWith("/internal/") && !/^\/dashboard(\/|$)/.test(r.path))
      .map((r) => `${r.method} ${(r.path.replace(/\/$/, "") || "/").replace(/:(\w+)/g, "{$1}")}`),
  );
  expect(served.size).toBeGreaterThan(30);
  expect([...served].filter((r) => !documented.has(r))).toEqual([]);
  expect([...documented].filter((r) => !served.has(r))).toEqual([]);
  expect(documented.has("POST /v1/admin/keys/{id}/revoke")).toBe(true);
  expect(documented.has("POST /v1/admin/queue/{id}/hold")).toBe(true);
  for (const r of ["GET /v1/messages", "GET /v1/suppressions/{address}", "GET /v1/events", "POST /v1/webhooks/deliveries/{id}/replay", "GET /u/{token}", "POST /u/{token}"]) expect(documented.has(r), r).toBe(true);
});

test("the webhooks section describes each event type as Standard Webhooks: {type, timestamp, data} and the three headers", async () => {
  const doc = await docOf(apps.admin);
  expect(Object.keys(doc.webhooks).sort()).toEqual([...EVENT_TYPES].sort());
  for (const [type, item] of Object.entries(doc.webhooks as Obj)) {
    const op = item.post;
    expect(op.parameters.filter((p: Obj) => p.in === "header" && p.required).map((p: Obj) => p.name).sort(), type).toEqual(["webhook-id", "webhook-signature", "webhook-timestamp"]);
    const body = op.requestBody.content["application/json"].schema;
    expect(body).toMatchObject({ type: "object", required: ["type", "timestamp", "data"], properties: { type: { const: type }, timestamp: { type: "string", format: "date-time" }, data: { type: "object" } } });
  }
});

test("400s are our error shape; every admin route requires the admin token; examples are given", async () => {
  const doc = await docOf(apps.admin);
  const errorSchema = resolveRef(doc, "#/components/schemas/Error") as Obj;
  expect(errorSchema.properties.error.properties).toMatchObject({ code: { type: "string" }, message: { type: "string" } });
  for (const [path, item] of Object.entries(doc.paths as Obj)) {
    for (const [method, op] of Object.entries(item as Obj)) {
      const bad = op.responses["400"];
      if (bad) {
        const r = (bad.$ref ? resolveRef(doc, bad.$ref) : bad) as Obj;
        expect(r.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Error" });
        expect(r.content["application/json"].example.error.code).toBeString();
      }
      if (path.startsWith("/v1/admin")) expect(op.security, `${method} ${path}`).toEqual([{ adminToken: [] }]);
      const body = op.requestBody?.content?.["application/json"];
      if (body) expect(body.example, `${method} ${path} example`).toBeDefined();
    }
  }
  // Request schemas come from the valibot schemas: strict objects, their limits.
  const newAccount = doc.paths["/v1/admin/accounts"].post.requestBody.content["application/json"].schema;
  expect(newAccount).toMatchObject({ type: "object", required: ["name"], additionalProperties: false, properties: { per_day: { type: "integer", minimum: 1 } } });
  expect(doc.paths["/v1/messages"].post.requestBody.content["application/json"].schema.properties.from).toMatchObject({ type: "string", minLength: 3 });
});

test("without SMARTHOST_ADMIN_TOKEN the admin API answers 404 and is not in the document", async () => {
  const res = await apps.plain.request("/v1/admin/accounts", { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({ error: { code: "not_found", message: "No such route" } });
  expect(Object.keys((await docOf(apps.plain)).paths).some((p) => p.startsWith("/v1/admin"))).toBe(false);
});

let served: Obj;
/** A request built from the document's examples (overrides as given); its answer must be documented, body and all. */
async function call(method: string, path: string, auth: string, over: { params?: Record<string, string>; body?: unknown; query?: string } = {}) {
  served ??= (await (await fetch(`${relay.http}/openapi.json`)).json()) as Obj;
  const op = served.paths[path][method];
  let url = path;
  for (const p of op.parameters ?? []) if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(over.params?.[p.name] ?? p.example));
  const example = "body" in over ? over.body : op.requestBody?.content["application/json"].example;
  const res = await fetch(`${relay.http}${url}${over.query ?? ""}`, { method: method.toUpperCase(), headers: { authorization: `Bearer ${auth}` }, body: example === undefined ? undefined : JSON.stringify(example) });
  const text = await res.text();
  const body = (text === "" ? null : JSON.parse(text)) as Obj;
  expect(schemaChecker(served).response(method, path, res.status, body), `${method} ${path} answered ${res.status} ${text}`).toEqual([]);
  return { status: res.status, body };
}

test("requests built from the document's examples work against the running relay", async () => {
  expect((await call("post", "/v1/admin/accounts", TOKEN)).status).toBe(201);
  expect((await call("post", "/v1/admin/senders", TOKEN)).status).toBe(201);
  const key = await call("post", "/v1/admin/keys", TOKEN);
  expect(key.status).toBe(201);
  const sent = await call("post", "/v1/messages", key.body.key);
  // No DKIM key on this relay: accepted with the DMARC warning, as documented.
  expect(sent).toEqual({ status: 202, body: { id: expect.any(String), status: "queued", suppressed: [], warnings: [{ code: "dmarc_unaligned", message: expect.any(String) }] } });
  const raw = await call("post", "/v1/messages/raw", key.body.key);
  expect(raw.status).toBe(202);
  const account = await call("get", "/v1/admin/accounts/{name}", TOKEN);
  expect(account.body).toMatchObject({ name: "acme", usage: { per_day: { used: 2, limit: 10000 } }, queued: { messages: 2 } });
});

test("the feedback routes answer as documented, and the events they record are the documented webhook bodies", async () => {
  await call("post", "/v1/admin/accounts", TOKEN, { body: { name: "feedback" } });
  await call("post", "/v1/admin/senders", TOKEN, { body: { account: "feedback", pattern: "example.com" } });
  const key = (await call("post", "/v1/admin/keys", TOKEN, { body: { account: "feedback" } })).body.key as string;

  const hook = await call("post", "/v1/webhooks", key, { body: { url: `http://127.0.0.1:9/hook` } });
  const params = { id: hook.body.id as string };
  const secret = hook.body.secret as string;
  expect(secret).toStartWith("whsec_");
  expect(hook.body).toMatchObject({ enabled: true, events: null });
  expect((await call("get", "/v1/webhooks", key)).body.data).toHaveLength(1);
  const shown = await call("get", "/v1/webhooks/{id}", key, { params });
  expect(shown.status).toBe(200);
  expect(shown.body).not.toHaveProperty("secret");
  const patched = await call("patch", "/v1/webhooks/{id}", key, { params, body: { events: ["suppression.added", "message.suppressed"] } });
  expect(patched.body.events, JSON.stringify(patched.body)).toEqual(["suppression.added", "message.suppressed"]);

  expect((await call("post", "/v1/suppressions", key)).body.data).toEqual([expect.objectContaining({ address: "bob@example.org", reason: "manual" })]);
  expect((await call("post", "/v1/suppressions", key, { body: { address: "not an address" } })).status).toBe(400);
  expect((await call("get", "/v1/suppressions", key)).body.data).toHaveLength(1);
  expect((await call("get", "/v1/suppressions/{address}", key)).body.address).toBe("bob@example.org");
  expect((await call("get", "/v1/suppressions", key, { query: "?reason=nope" })).status).toBe(400);

  // The example message is to the suppressed address: refused whole; with another recipient, the 202 names it.
  expect((await call("post", "/v1/messages", key)).body.error.code).toBe("all_suppressed");
  const sent = await call("post", "/v1/messages", key, { body: { from: "alice@example.com", to: ["bob@example.org", "carol@example.org"], subject: "Hi", text: "Hi" } });
  expect(sent).toEqual({ status: 202, body: { id: expect.any(String), status: "queued", suppressed: ["bob@example.org"], warnings: [{ code: "dmarc_unaligned", message: expect.any(String) }] } });
  expect((await call("get", "/v1/messages", key)).body.data).toEqual([expect.objectContaining({ id: sent.body.id, status: "queued" })]);
  expect((await call("get", "/v1/messages", key, { query: "?status=nope" })).status).toBe(400);
  expect((await call("delete", "/v1/suppressions/{address}", key)).status).toBe(204);
  expect((await call("get", "/v1/suppressions/{address}", key)).status).toBe(404);

  const events = (await call("get", "/v1/events", key)).body.data as Obj[];
  expect(events.map((e) => e.type)).toEqual(["suppression.added", "message.suppressed", "message.suppressed", "suppression.removed"]);
  const check = schemaChecker(served);
  for (const { id, ...payload } of events) expect(check.webhook(payload.type, payload), id).toEqual([]);
  // A body that breaks the documented shape is caught (the check can fail).
  expect(check.webhook("suppression.added", { ...events[0], data: { address: 1 } })).not.toEqual([]);

  const deliveries = (await call("get", "/v1/webhooks/{id}/deliveries", key, { params })).body.data as Obj[];
  expect(deliveries.map((d) => d.type).sort()).toEqual(["message.suppressed", "message.suppressed", "suppression.added"]);
  expect((await call("post", "/v1/webhooks/deliveries/{id}/replay", key, { params: { id: String(deliveries[0]!.id) } })).body).toEqual({ id: deliveries[0]!.id, state: "pending" });
  const rotated = await call("post", "/v1/webhooks/{id}/rotate", key, { params });
  expect(rotated.body.secret).toStartWith("whsec_");
  expect(rotated.body.secret).not.toBe(secret);
  expect((await call("delete", "/v1/webhooks/{id}", key, { params })).status).toBe(204);
  expect((await call("get", "/v1/webhooks/{id}", key, { params })).status).toBe(404);
});

/** Each command of the CLI and the admin operation that does the same (null: the server itself, not a verb on its data). */
const OVER_HTTP: Record<string, string[] | null> = {
  serve: null,
  migrate: null,
  // Keys for the database server's own authentication, made where sqld runs.
  "db token": null,
  "account add": ["POST /v1/admin/accounts"],
  "account list": ["GET /v1/admin/accounts"],
  "account show": ["GET /v1/admin/accounts/{name}"],
  "account update": ["PATCH /v1/admin/accounts/{name}"],
  "account remove": ["DELETE /v1/admin/accounts/{name}"],
  "credential add": ["POST /v1/admin/credentials"],
  "credential list": ["GET /v1/admin/credentials"],
  "credential rotate": ["POST /v1/admin/credentials/{username}/rotate"],
  "credential remove": ["DELETE /v1/admin/credentials/{username}"],
  "key add": ["POST /v1/admin/keys"],
  "key list": ["GET /v1/admin/keys"],
  "key revoke": ["POST /v1/admin/keys/{id}/revoke"],
  "sender allow": ["POST /v1/admin/senders"],
  "sender list": ["GET /v1/admin/senders"],
  "sender remove": ["POST /v1/admin/senders/remove"],
  "network allow": ["POST /v1/admin/networks"],
  "network list": ["GET /v1/admin/networks"],
  "network remove": ["POST /v1/admin/networks/remove"],
  "route add": ["POST /v1/admin/routes"],
  "route list": ["GET /v1/admin/routes"],
  "route remove": ["POST /v1/admin/routes/remove"],
  "route update": ["POST /v1/admin/routes/quota"],
  "shape add": ["POST /v1/admin/shapes"],
  "shape list": ["GET /v1/admin/shapes"],
  "shape remove": ["DELETE /v1/admin/shapes/{pattern}"],
  queue: ["GET /v1/admin/queue"],
  "queue show": ["GET /v1/admin/queue/{id}"],
  "queue reschedule": ["POST /v1/admin/queue/{id}/reschedule"],
  ...Object.fromEntries(["retry", "hold", "release", "delete"].map((a) => [`queue ${a}`, [`POST /v1/admin/queue/${a}`, `POST /v1/admin/queue/{id}/${a}`]])),
  "dkim add": ["POST /v1/admin/dkim"],
  "dkim list": ["GET /v1/admin/dkim"],
  "dkim rotate": ["POST /v1/admin/dkim/{domain}/rotate"],
  "dkim activate": ["POST /v1/admin/dkim/{domain}/{selector}/activate"],
  "dkim remove": ["DELETE /v1/admin/dkim/{domain}/{selector}"],
  "domain check": ["GET /v1/admin/domains/{domain}"],
  "domain return-path": ["POST /v1/admin/return-paths"],
  "domain return-path list": ["GET /v1/admin/return-paths"],
  "domain return-path remove": ["DELETE /v1/admin/return-paths/{domain}"],
  "account resume": ["POST /v1/admin/accounts/{name}/resume"],
  "suppression list": ["GET /v1/admin/suppressions"],
  "suppression add": ["POST /v1/admin/suppressions"],
  "suppression remove": ["POST /v1/admin/suppressions/remove"],
  "webhook add": ["POST /v1/admin/webhooks"],
  "webhook list": ["GET /v1/admin/webhooks"],
  "webhook rotate": ["POST /v1/admin/webhooks/{id}/rotate"],
  "webhook remove": ["DELETE /v1/admin/webhooks/{id}"],
  "tlsrpt report": ["GET /v1/admin/tlsrpt/{domain}"],
  "tlsrpt list": ["GET /v1/admin/tlsrpt"],
};

test("every CLI verb is in the admin API (on the running relay, which has DNS for the domain check)", async () => {
  const doc = (await (await fetch(`${relay.http}/openapi.json`)).json()) as Obj;
  const ops = new Set(Object.entries(doc.paths as Obj).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`)));
  expect(COMMANDS.map((c) => c.name).filter((n) => !(n in OVER_HTTP))).toEqual([]);
  expect(Object.values(OVER_HTTP).flatMap((o) => o ?? []).filter((o) => !ops.has(o))).toEqual([]);
});

test("/docs is a page from this host that loads nothing from elsewhere", async () => {
  const res = await fetch(`${relay.http}/docs`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/html");
  const html = await res.text();
  expect(html).toContain('fetch("openapi.json")');
  expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
  expect(html).not.toContain("innerHTML");
});
