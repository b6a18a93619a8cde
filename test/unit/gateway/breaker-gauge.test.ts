/**
 * smarthost_route_breaker_state: every configured relay route (each `route add`, and
 * SMARTHOST_UPSTREAM when it names one) has its gauge, up before any mail went its way;
 * down and half-open follow the breaker's shared state; labels never carry credentials.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { routes } from "../../../src/db/schema.ts";
import { createMetrics } from "../../../src/gateway/metrics.ts";
import { admit, healthOf, routeFailed, type BreakerConfig } from "../../../src/shaping/route-health.ts";
import { removeDir } from "../../support/relay.ts";
import { addTestRoute, openShapingDb, routeLabel, type ShapingDb } from "../../support/shaping.ts";

let s: ShapingDb;
const c: BreakerConfig = { threshold: 2, baseMs: 1000, maxMs: 5000, probeMs: 10_000 };

beforeEach(async () => {
  s = await openShapingDb("gauge.db");
});
afterEach(() => {
  s.database.close();
  removeDir(s.dir);
});

const gauges = async (name: string, defaultUpstream?: string) => {
  const text = await createMetrics(s.database.db, { defaultUpstream }).render();
  return { text, values: Object.fromEntries([...text.matchAll(new RegExp(`^${name}\\{route="([^"]+)"\\} (\\d+)$`, "gm"))].map((m) => [m[1], Number(m[2])])) };
};

test("every configured relay route has a breaker gauge: 0 up, 1 half-open, 2 down; mx routes have none", async () => {
  await addTestRoute(s, "a.test", 2601, 0);
  await addTestRoute(s, "b.test", 2602, 0);
  // Two domains on one upstream: one series.
  await addTestRoute(s, "c.test", 2602, 0);
  await s.database.db.insert(routes).values({ domain: "mx.test", url: "mx", secret: null, position: 0 });
  const upstream = "smtps://provider:s3cret@127.0.0.1:2603";

  expect((await gauges("smarthost_route_breaker_state", upstream)).values).toEqual({ [routeLabel(2601)]: 0, [routeLabel(2602)]: 0, "smtps://127.0.0.1:2603": 0 });

  const sql = s.database.sql;
  for (const r of [routeLabel(2601), routeLabel(2602)]) {
    await routeFailed(sql, r, "421 4.3.2 going away", 0, c, false);
    await routeFailed(sql, r, "421 4.3.2 going away", 0, c, false);
  }
  // The backoff of the second is over and one caller holds its probe: half-open.
  const probing = await admit(sql, routeLabel(2602), (await healthOf(sql, [routeLabel(2602)])).get(routeLabel(2602)), 1000, c);
  expect(probing).toEqual({ use: true, probe: true });

  const { text, values } = await gauges("smarthost_route_breaker_state", upstream);
  expect(values).toEqual({ [routeLabel(2601)]: 2, [routeLabel(2602)]: 1, "smtps://127.0.0.1:2603": 0 });
  expect((await gauges("smarthost_route_up", upstream)).values).toEqual({ [routeLabel(2601)]: 0, [routeLabel(2602)]: 0, "smtps://127.0.0.1:2603": 1 });
  expect(text).not.toContain("s3cret");
});
