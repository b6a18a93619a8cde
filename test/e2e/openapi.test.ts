/**
 * /openapi.json and /docs: the document is sound OpenAPI 3.1, describes every route the
 * app serves (admin included), keeps our error shape, and its examples work as requests.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Hono } from "hono";
import { loadConfig } from "../../src/config.ts";
import type { Database } from "../../src/db/client.ts";
import { createGatewayStack } from "../../src/gateway/stack.ts";
import { GroupCommit } from "../../src/queue/group-commit.ts";
import { openDatabase } from "../../src/runtime/bun-db.ts";
import { checkOpenApi31, resolveRef } from "../support/openapi-check.ts";
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
  apps.admin = stack({ SMARTHOST_ADMIN_TOKEN: TOKEN, SMARTHOST_GATEWAY_TOKEN: "g".repeat(40) });
  apps.plain = stack({});
  relay = await startRelay(tempDir(), { SMARTHOST_ADMIN_TOKEN: TOKEN });
});
afterAll(async () => {
  await relay?.stop();
  if (relay) removeDir(relay.dir);
  database?.close();
  if (dir) removeDir(dir);
});

const docOf = async (app: Hono) => (await (await app.request("/openapi.json")).json()) as Obj;

test("the document is sound OpenAPI 3.1 and every route the app serves is in it", async () => {
  const doc = await docOf(apps.admin);
  expect(checkOpenApi31(doc)).toEqual([]);
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

test("requests built from the document's examples work against the running relay", async () => {
  const doc = (await (await fetch(`${relay.http}/openapi.json`)).json()) as Obj;
  const call = async (method: string, path: string, auth: string) => {
    const op = doc.paths[path][method];
    let url = path;
    for (const p of op.parameters ?? []) if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(p.example));
    const example = op.requestBody?.content["application/json"].example;
    const res = await fetch(`${relay.http}${url}`, { method: method.toUpperCase(), headers: { authorization: `Bearer ${auth}` }, body: example === undefined ? undefined : JSON.stringify(example) });
    const body = (await res.json()) as Obj;
    expect(Object.keys(op.responses), `${method} ${path} answered ${res.status} ${JSON.stringify(body)}`).toContain(String(res.status));
    return { status: res.status, body };
  };
  expect((await call("post", "/v1/admin/accounts", TOKEN)).status).toBe(201);
  expect((await call("post", "/v1/admin/senders", TOKEN)).status).toBe(201);
  const key = await call("post", "/v1/admin/keys", TOKEN);
  expect(key.status).toBe(201);
  const sent = await call("post", "/v1/messages", key.body.key);
  expect(sent).toEqual({ status: 202, body: { id: expect.any(String), status: "queued" } });
  const raw = await call("post", "/v1/messages/raw", key.body.key);
  expect(raw.status).toBe(202);
  const account = await call("get", "/v1/admin/accounts/{name}", TOKEN);
  expect(account.body).toMatchObject({ name: "acme", usage: { per_day: { used: 2, limit: 10000 } }, queued: { messages: 2 } });
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
