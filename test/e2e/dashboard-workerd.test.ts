/**
 * The dashboard on the edge deployment (real workerd via `wrangler dev`, remote libSQL): the
 * same pages, assets and session as on Bun, with no file read at run time.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startSqld, type Sqld } from "../support/sqld.ts";
import { startWranglerDev, type WranglerDev } from "../support/wrangler.ts";
import { cliOk, removeDir, tempDir } from "../support/relay.ts";
import { generateSecretKey } from "../../src/secrets/cipher.ts";
import { ASSETS } from "../../src/dashboard/assets.gen.ts";

const TOKEN = "admin-token-for-the-edge-dashboard-0123456789";
let dir: string;
let sqld: Sqld;
let worker: WranglerDev;
let apiKey: string;

beforeAll(async () => {
  dir = tempDir();
  sqld = await startSqld(dir);
  const remote = { SMARTHOST_DB_URL: sqld.url };
  await cliOk(dir, ["account", "add", "edge"], remote);
  await cliOk(dir, ["sender", "allow", "edge", "example.com"], remote);
  apiKey = await cliOk(dir, ["key", "add", "edge"], remote);
  worker = await startWranglerDev({ SMARTHOST_DB_URL: sqld.url, SMARTHOST_HOSTNAME: "edge.test", SMARTHOST_SECRET_KEY: generateSecretKey(), SMARTHOST_ADMIN_TOKEN: TOKEN });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await sqld?.stop();
  if (dir) removeDir(dir);
});

test("the Worker serves the dashboard: login, a message on the overview, its scripts from itself", async () => {
  const guarded = await fetch(`${worker.url}/dashboard`, { redirect: "manual" });
  expect([guarded.status, guarded.headers.get("location")]).toEqual([303, "/dashboard/login"]);
  const wrong = await fetch(`${worker.url}/dashboard/login`, { method: "POST", body: new URLSearchParams({ token: `${TOKEN}x` }), redirect: "manual" });
  expect(wrong.status).toBe(401);
  const login = await fetch(`${worker.url}/dashboard/login`, { method: "POST", body: new URLSearchParams({ token: TOKEN }), redirect: "manual" });
  expect(login.status).toBe(303);
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
  expect(cookie).toStartWith("smarthost_dashboard=");

  const sent = await fetch(`${worker.url}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ from: "app@example.com", to: ["someone@dest.test"], subject: "From the edge <b>", text: "x" }) });
  expect(sent.status).toBe(202);
  const { id } = (await sent.json()) as { id: string };
  const page = await fetch(`${worker.url}/dashboard`, { headers: { cookie } });
  expect(page.status).toBe(200);
  expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
  const html = await page.text();
  expect(html).toContain(`/dashboard/messages/${id}`);
  expect(html).toContain("From the edge &lt;b&gt;");
  const series = (await (await fetch(`${worker.url}/dashboard/series?minutes=1440`, { headers: { cookie } })).json()) as { counts: { accepted: number[] } };
  expect(series.counts.accepted.reduce((a, b) => a + b, 0)).toBe(1);
  for (const name of ["htmx.min.js", "uPlot.iife.min.js", "dashboard.js", "dashboard.css"]) {
    const res = await fetch(`${worker.url}/dashboard/assets/${name}`);
    expect([name, res.status, await res.text()]).toEqual([name, 200, ASSETS[name]!.body]);
  }
}, 60_000);
