/** Traffic shaping over the admin API of a running relay: route health and quotas, route events, shapes. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cliOk, removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";

const TOKEN = "admin-token-for-tests-0123456789abcdef";
let dir: string;
let relay: Relay;

beforeAll(async () => {
  dir = tempDir();
  await cliOk(dir, ["route", "add", "*", "smtp://user:secret@relay-a.test:587", "--per-second", "14"]);
  relay = await startRelay(dir, { SMARTHOST_ADMIN_TOKEN: TOKEN });
});
afterAll(async () => {
  await relay?.stop();
  if (dir) removeDir(dir);
});

async function admin(method: string, path: string, body?: unknown, token = TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${relay.http}/v1/admin${path}`, { method, headers: { authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

test("routes with quota and health; the quota changed by URL as listed; bad values are 400", async () => {
  expect((await admin("GET", "/routes")).body).toEqual([{ domain: "*", position: 0, url: "smtp://***@relay-a.test:587", per_second: 14, per_minute: null, per_day: null, health: "up", down_until: null }]);
  const changed = await admin("POST", "/routes/quota", { domain: "*", url: "smtp://***@relay-a.test:587", per_second: null, per_day: 50000 });
  expect(changed).toEqual({ status: 200, body: expect.objectContaining({ per_second: null, per_day: 50000, health: "up" }) });
  expect((await admin("GET", "/routes/health")).body[0]).toMatchObject({ per_day: 50000 });
  const bad = await admin("POST", "/routes/quota", { domain: "*", url: "smtp://***@relay-a.test:587", per_minute: 0 });
  expect(bad.status).toBe(400);
  expect(bad.body.error.message).toContain("per_minute must be at least 1");
  expect((await admin("POST", "/routes/quota", { domain: "*", url: "smtp://nowhere.test:25", per_day: 5 })).status).toBe(404);
  expect(await admin("GET", "/routes/events")).toEqual({ status: 200, body: [] });
  expect((await admin("GET", "/routes/events", undefined, "wrong-token-0123456789abcdef0123456789")).status).toBe(401);
});

test("shapes: add, list with the defaults, remove", async () => {
  const added = await admin("POST", "/shapes", { pattern: "example.org", connections: 2, per_minute: 60 });
  expect(added).toEqual({ status: 201, body: { pattern: "example.org", connections: 2, per_minute: 60, rate_now: 60, source: "operator" } });
  expect((await admin("GET", "/shapes")).body.map((s: { pattern: string }) => s.pattern)).toEqual(["example.org", "*.google.com", "*.outlook.com", "*.yahoodns.net"]);
  expect((await admin("POST", "/shapes", { pattern: "not a domain", per_minute: 5 })).status).toBe(400);
  expect(await admin("DELETE", "/shapes/example.org")).toEqual({ status: 200, body: { pattern: "example.org" } });
  expect((await admin("DELETE", "/shapes/example.org")).status).toBe(404);
});
