/** The dashboard's asset route looks names up among its own assets only: Object's own names are not assets. */
import { afterEach, expect, test } from "bun:test";
import { dashboardRoutes } from "../../../src/dashboard/routes.ts";
import { createApp } from "../../../src/gateway/app.ts";
import { createSmtpHandler } from "../../../src/gateway/smtp-handler.ts";
import { gatewayFixture, type GatewayFixture } from "../policy/gateway-fixture.ts";

let fx: GatewayFixture | undefined;
afterEach(() => fx?.close());

const TOKEN = "admin-token-for-asset-names-0123456789";

async function appWithLog() {
  fx = await gatewayFixture();
  const logged: { event: string; fields: Record<string, unknown> }[] = [];
  const app = createApp({
    gateway: fx.gateway,
    metrics: fx.metrics,
    smtpHandler: createSmtpHandler(fx.gateway, () => {}),
    hostname: "relay.test",
    maxMessageBytes: 1_000_000,
    adminToken: TOKEN,
    mounts: [{ path: "/dashboard", routes: dashboardRoutes({ storage: fx.gateway.storage, token: TOKEN, hostname: "relay.test" }) }],
    log: (event, fields) => logged.push({ event, fields }),
  });
  return { app, logged };
}

test("names inherited from Object.prototype are 404 without a login, and nothing is logged", async () => {
  const { app, logged } = await appWithLog();
  const names = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];
  const statuses: [string, number][] = [];
  for (const name of names) {
    const res = await app.request(`/dashboard/assets/${name}`);
    statuses.push([name, res.status]);
    await res.text();
  }
  expect(statuses).toEqual(names.map((n) => [n, 404]));
  expect(logged.map((l) => l.event)).toEqual([]);
});

test("an embedded asset is still served", async () => {
  const { app } = await appWithLog();
  const res = await app.request("/dashboard/assets/htmx.min.js");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("javascript");
});
