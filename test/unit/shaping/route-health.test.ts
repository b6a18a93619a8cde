/** The route circuit breaker's transitions, on a real libSQL file, as two nodes would see them. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { listRoutes } from "../../../src/admin/route-list.ts";
import { admit, healthOf, routeFailed, routeSucceeded, type BreakerConfig } from "../../../src/shaping/route-health.ts";
import { createMetrics } from "../../../src/gateway/metrics.ts";
import { appendRouteEvent, recentRouteEvents } from "../../../src/shaping/route-events.ts";
import { removeDir } from "../../support/relay.ts";
import { addTestRoute, openShapingDb, routeLabel, type ShapingDb } from "../../support/shaping.ts";

let s: ShapingDb;
const c: BreakerConfig = { threshold: 3, baseMs: 1000, maxMs: 5000, probeMs: 10_000 };
const R = routeLabel(2601);

// Each test has a database of its own: none relies on what another left behind.
beforeEach(async () => {
  s = await openShapingDb("health.db");
});
afterEach(() => {
  s.database.close();
  removeDir(s.dir);
});

const h = async () => (await healthOf(s.database.sql, [R])).get(R);

test("trips after the threshold, once; one probe is claimed by one node only; the backoff doubles; a success recovers", async () => {
  const sql = s.database.sql;
  expect(await routeFailed(sql, R, "451 4.4.1 refused", 0, c, false)).toBeNull();
  expect(await routeFailed(sql, R, "451 4.4.1 refused", 0, c, false)).toBeNull();
  expect(await routeFailed(sql, R, "451 4.4.1 refused", 0, c, false)).toEqual({ downUntil: 1000, trips: 1 });
  // A fourth failure reported by a node that was still sending: already down, no second trip.
  expect(await routeFailed(sql, R, "451 4.4.1 refused", 10, c, false)).toBeNull();
  expect(await admit(sql, R, await h(), 500, c)).toEqual({ use: false, until: 1000 });
  // The backoff is over: two nodes ask with the same view; one probe.
  const view = await h();
  const a = await admit(sql, R, view, 1000, c);
  const b = await admit(sql, R, view, 1000, c);
  expect([a, b]).toEqual([{ use: true, probe: true }, { use: false, until: 2000 }]);
  // The probe fails: down again, for twice as long.
  expect(await routeFailed(sql, R, "451 4.4.1 refused", 1100, c, false)).toEqual({ downUntil: 3100, trips: 2 });
  expect((await admit(sql, R, await h(), 3100, c)).use).toBe(true);
  expect(await routeSucceeded(sql, R, 3200)).toBe(true);
  expect(await routeSucceeded(sql, R, 3300)).toBe(false);
  expect((await h())?.state).toBe("up");
  // Trips start over after a recovery.
  expect(await routeFailed(sql, R, "535 5.7.8 bad credentials", 4000, c, true)).toEqual({ downUntil: 5000, trips: 1 });
});

test("route list and /metrics show the health", async () => {
  // Refused credentials take the route down at once, for the base backoff.
  expect(await routeFailed(s.database.sql, R, "535 5.7.8 bad credentials", 4000, c, true)).toEqual({ downUntil: 5000, trips: 1 });
  await addTestRoute(s, "dest.test", 2601, 0, { perSecond: 5 });
  await addTestRoute(s, "dest.test", 2602, 1);
  const rows = await listRoutes(s.database.db, 4500);
  expect(rows.map((r) => [r.url, r.health, r.per_second, r.down_until])).toEqual([
    [`${R}?tls=none`, "down", 5, new Date(5000).toISOString()],
    [`${routeLabel(2602)}?tls=none`, "up", null, null],
  ]);
  // Past its down time, before a message claimed the probe: open again, shown as such.
  expect((await listRoutes(s.database.db, 5000)).map((r) => r.health)).toEqual(["reopened", "up"]);
  const text = await createMetrics(s.database.db).render();
  expect(text).toContain(`smarthost_route_up{route="${R}"} 0`);
});

test("route events: the whole reply in the operators' feed; a tenant copy, codes only, to accounts that ask for the type and used the route", async () => {
  const sql = s.database.sql;
  await sql.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a1', 'used', 0), ('a2', 'unfiltered', 0), ('a3', 'elsewhere', 0)");
  await sql.execute(`INSERT INTO webhook_endpoints (id, account_id, url, events, secret, created_at) VALUES
    ('e1', 'a1', 'https://a.test/', 'route.degraded,message.bounced', 'x', 0), ('e2', 'a2', 'https://b.test/', NULL, 'x', 0), ('e3', 'a3', 'https://c.test/', 'route.degraded', 'x', 0)`);
  // a1 and a2 sent by the route an hour ago at most; a3 by another route.
  for (const [account, route] of [["a1", R], ["a2", R], ["a3", "smtp://other.test:25"]]) {
    await sql.execute({ sql: "INSERT INTO account_events (account_id, type, data, created_at) VALUES (?, 'message.delivered', ?, 5)", args: [account!, JSON.stringify({ route })] });
  }
  const reply = { code: 550, enhanced: "5.7.1", text: "<secret-customer@b.test> refused by policy" };
  await appendRouteEvent(sql, "route.degraded", { route: R, reply }, 10);
  const rows = (await sql.execute("SELECT account_id, data FROM account_events WHERE type = 'route.degraded' ORDER BY id")).rows.map((r) => [r.account_id, JSON.parse(String(r.data))]);
  expect(rows).toEqual([
    [null, { route: R, reply }],
    ["a1", { route: R, reply: { code: 550, enhanced: "5.7.1" } }],
  ]);
  expect(Number((await sql.execute("SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id = 'e1'")).rows[0]!.n)).toBe(1);
  expect(Number((await sql.execute("SELECT count(*) AS n FROM webhook_deliveries WHERE endpoint_id IN ('e2', 'e3')")).rows[0]!.n)).toBe(0);
  expect((await recentRouteEvents(sql)).map((e) => [e.type, e.data.reply])).toEqual([["route.degraded", reply]]);
});
