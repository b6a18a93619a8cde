/**
 * The relay routes' circuit breaker with real smtp-server upstreams on loopback: the
 * primary is killed while mail flows, the breaker trips, the secondary takes everything
 * (nothing bounced, nothing twice); the primary comes back, one probe finds it, traffic
 * returns.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { DeliveryWorker } from "../../src/delivery/worker.ts";
import { removeDir } from "../support/relay.ts";
import { addTestRoute, openShapingDb, queueMessages, recipientStates, routeEvents, routeLabel, shapingWorker, subjects, type ShapingDb } from "../support/shaping.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";

let s: ShapingDb;
let primary: Upstream;
let secondary: Upstream;
let worker: DeliveryWorker;
const THRESHOLD = 3;

beforeAll(async () => {
  s = await openShapingDb("failover.db");
  // closeTimeout: open sessions get 421 and are dropped at once, as when a relay dies. A
  // pause before answering MAIL keeps mail flowing while it is killed (never between
  // accepting a message and saying so, which would make a duplicate any relay would make).
  primary = await startUpstream({ extra: { closeTimeout: 50, onMailFrom: (_a, _s, cb) => void setTimeout(() => cb(), 20) } });
  secondary = await startUpstream();
  await addTestRoute(s, "dest.test", primary.port, 0);
  await addTestRoute(s, "dest.test", secondary.port, 1);
  worker = shapingWorker(s, { breaker: { threshold: THRESHOLD, baseMs: 1500, maxMs: 10_000, probeMs: 5000 } });
  worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await primary?.close();
  await secondary?.close();
  s?.database.close();
  if (s) removeDir(s.dir);
});

test("primary killed mid-stream: mail fails over within the threshold, nothing bounced or sent twice; the primary back, one probe returns traffic", async () => {
  const first = await queueMessages(s, "dest.test", 10, "before");
  worker.kick();
  await waitFor("first batch delivered", async () => (await recipientStates(s, first)).delivered === 10);
  expect(primary.received.length).toBe(10);

  // Kill the primary while the next batch is being delivered.
  const second = queueMessages(s, "dest.test", 40, "during");
  worker.kick();
  await waitFor("some of the second batch at the primary", () => primary.received.length > 10);
  await primary.close();
  const ids = await second;
  worker.kick();
  await waitFor("second batch delivered", async () => (await recipientStates(s, ids)).delivered === 40);

  const all = [...subjects(primary.received), ...subjects(secondary.received)];
  expect(new Set(all).size).toBe(all.length); // nothing twice
  expect(all.length).toBe(50);
  expect(await recipientStates(s, [...first, ...ids])).toEqual({ delivered: 50 }); // nothing bounced or deferred
  const events = await routeEvents(s);
  expect(events.map((e) => e.type)).toEqual(["route.degraded"]);
  expect(events[0]!.data.route).toBe(routeLabel(primary.port));
  // Connections tried on the dead primary: no more than the threshold (plus those already under way when it tripped).
  const failures = Number((await s.database.sql.execute({ sql: "SELECT failures FROM route_health WHERE route = ?", args: [routeLabel(primary.port)] })).rows[0]!.failures);
  expect(failures).toBeLessThanOrEqual(THRESHOLD + 4);

  // The primary comes back where the route points; after the backoff one probe brings it back.
  const port = primary.port;
  const atSecondary = secondary.received.length;
  primary = await startUpstream({ port });
  const later: string[] = [];
  await waitFor(
    "a probe reaching the restarted primary",
    async () => {
      later.push(...(await queueMessages(s, "dest.test", 1, `after ${later.length}`)));
      worker.kick();
      return primary.received.length > 0;
    },
    // The breaker's longest backoff (maxMs 10 s) plus one probe interval (5 s), and room for
    // a loaded machine: 15 s was exactly the worst case.
    25_000,
  );
  await waitFor("route.recovered", async () => (await routeEvents(s)).some((e) => e.type === "route.recovered"));
  const more = await queueMessages(s, "dest.test", 10, "recovered");
  worker.kick();
  await waitFor("traffic back on the primary", async () => (await recipientStates(s, more)).delivered === 10);
  expect(subjects(primary.received).filter((x) => x.startsWith("recovered")).length).toBe(10);
  await waitFor("every later message delivered", async () => (await recipientStates(s, later)).delivered === later.length);
  expect(secondary.received.length - atSecondary).toBeLessThanOrEqual(later.length);
  expect((await routeEvents(s)).map((e) => e.type)).toEqual(["route.degraded", "route.recovered"]);
}, 60_000);

test("a relay refusing our account at MAIL (454 4.7.0 throttling) is down after a run of refusals: the messages go by the next route, nothing bounced", async () => {
  const throttled = await startUpstream({ extra: { closeTimeout: 50, onMailFrom: (_a, _s, cb) => cb(Object.assign(new Error("4.7.0 Throttling failure: Maximum sending rate exceeded"), { responseCode: 454 })) } });
  const spare = await startUpstream({ extra: { closeTimeout: 50 } });
  try {
    await addTestRoute(s, "quota.test", throttled.port, 0);
    await addTestRoute(s, "quota.test", spare.port, 1);
    const ids = await queueMessages(s, "quota.test", 5, "throttled");
    worker.kick();
    await waitFor("delivered by the spare route", async () => (await recipientStates(s, ids)).delivered === 5);
    expect(spare.received.length).toBe(5);
    const degraded = (await routeEvents(s)).filter((e) => e.data.route === routeLabel(throttled.port));
    expect(degraded.map((e) => e.type)).toEqual(["route.degraded"]);
    expect(degraded[0]!.data.reply).toMatchObject({ code: 454, enhanced: "4.7.0" });
    // Tripped after the threshold (3), not on one reply: the later messages were never offered to it.
    const failures = Number((await s.database.sql.execute({ sql: "SELECT failures FROM route_health WHERE route = ?", args: [routeLabel(throttled.port)] })).rows[0]!.failures);
    expect(failures).toBeLessThan(5);
  } finally {
    await throttled.close();
    await spare.close();
  }
});
