/**
 * Route quotas with real smtp-server upstreams on loopback: a provider plan of 5 messages a
 * second is never exceeded and the overflow goes to the next route; when every route has
 * spent its quota the recipients wait (no attempt counted, no bounce) and then go.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { DeliveryWorker } from "../../src/delivery/worker.ts";
import { removeDir } from "../support/relay.ts";
import { addTestRoute, openShapingDb, queueMessages, recipientStates, shapingWorker, subjects, type ShapingDb } from "../support/shaping.ts";
import { startUpstream, type Received, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";

let s: ShapingDb;
let first: Upstream;
let second: Upstream;
let slow: Upstream;
let worker: DeliveryWorker;

beforeAll(async () => {
  s = await openShapingDb("quota.db");
  first = await startUpstream();
  second = await startUpstream();
  // The overflow's route answers MAIL after 100 ms, so the run lasts a few seconds.
  slow = await startUpstream({ extra: { onMailFrom: (_a, _s, cb) => void setTimeout(() => cb(), 100) } });
  await addTestRoute(s, "plain.test", first.port, 0, { perSecond: 5 });
  await addTestRoute(s, "plain.test", slow.port, 1);
  // The same two providers for another domain, the second with a plan of its own.
  await addTestRoute(s, "tight.test", first.port, 0, { perSecond: 5 });
  await addTestRoute(s, "tight.test", second.port, 1, { perSecond: 3 });
  worker = shapingWorker(s, { concurrency: 8, perDestination: 8 });
  worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await first?.close();
  await second?.close();
  await slow?.close();
  s?.database.close();
  if (s) removeDir(s.dir);
});

/** The most messages an upstream accepted in one second. */
function busiestSecond(received: Received[], tag: string): number {
  const per = new Map<number, number>();
  for (const m of received) if (/Subject: (\S+)/.exec(m.raw.toString())?.[1] === tag) per.set(Math.floor(m.at / 1000), (per.get(Math.floor(m.at / 1000)) ?? 0) + 1);
  return Math.max(0, ...per.values());
}

test("quota 5/s with 100 messages: the first route sees at most 5 a second, the overflow goes to the second", async () => {
  const ids = await queueMessages(s, "plain.test", 100, "plain");
  worker.kick();
  await waitFor("100 delivered", async () => (await recipientStates(s, ids)).delivered === 100);
  const atFirst = subjects(first.received).filter((x) => x.startsWith("plain"));
  const atSecond = subjects(slow.received).filter((x) => x.startsWith("plain"));
  expect(atFirst.length + atSecond.length).toBe(100);
  expect(new Set([...atFirst, ...atSecond]).size).toBe(100);
  const spanMs = Math.max(...slow.received.map((m) => m.at)) - Math.min(...first.received.map((m) => m.at));
  // The first route carried its 5 a second over the whole run, and no more.
  expect(atFirst.length).toBeGreaterThanOrEqual(Math.floor(spanMs / 1000) * 5);
  expect(atSecond.length).toBeGreaterThan(0);
  // The quota spaces the starts of messages 200 ms apart; an arrival is that start plus the
  // transaction's own time (a new connection's greeting and EHLO, or a pooled one's none), so
  // one calendar second at the sink may catch one message early: never two.
  expect(busiestSecond(first.received, "plain")).toBeLessThanOrEqual(6);
}, 30_000);

test("both quotas spent: recipients wait for the window without an attempt counted, then deliver", async () => {
  const ids = await queueMessages(s, "tight.test", 40, "tight");
  worker.kick();
  await waitFor("40 delivered", async () => (await recipientStates(s, ids)).delivered === 40, 30_000);
  expect(busiestSecond(first.received, "tight")).toBeLessThanOrEqual(5);
  expect(busiestSecond(second.received, "tight")).toBeLessThanOrEqual(3);
  const all = [...subjects(first.received), ...subjects(second.received)].filter((x) => x.startsWith("tight"));
  expect(all.length).toBe(40);
  const list = ids.map(() => "?").join(", ");
  const rows = (await s.database.sql.execute({ sql: `SELECT attempts, waited_ms FROM recipients WHERE message_id IN (${list})`, args: ids })).rows;
  // One attempt each: the waits were not attempts. Some waited, and the wait was recorded.
  expect(new Set(rows.map((r) => Number(r.attempts)))).toEqual(new Set([1]));
  expect(rows.filter((r) => Number(r.waited_ms) > 0).length).toBeGreaterThan(0);
  const waits = (await s.database.sql.execute({ sql: `SELECT detail FROM events WHERE type = 'deferred' AND message_id IN (${list})`, args: ids })).rows;
  expect(waits.length).toBeGreaterThan(0);
  expect(String(waits[0]!.detail)).toMatch(/^route_quota: smtp:\/\/127\.0\.0\.1:\d+ until \d{4}-/);
}, 40_000);

test("the queue lifetime does not run while a recipient waits on our own pacing", async () => {
  await worker.stop(); // this test drives its own worker with a short lifetime
  const busy = await startUpstream({ onRcpt: () => ({ code: 451, message: "4.3.0 try later" }) });
  try {
    await addTestRoute(s, "busy.test", busy.port, 0);
    const lifetimeMs = 60_000;
    const old = Date.now() - lifetimeMs - 10_000;
    const [waited, plain] = [...(await queueMessages(s, "busy.test", 2, "old"))] as [string, string];
    await s.database.sql.execute({ sql: "UPDATE messages SET created_at = ? WHERE id IN (?, ?)", args: [old, waited, plain] });
    // The first waited 20 s for route quotas: 10 s short of its lifetime by our count.
    await s.database.sql.execute({ sql: "UPDATE recipients SET waited_ms = 20000 WHERE message_id = ?", args: [waited] });
    const w = shapingWorker(s, { lifetimeMs });
    await w.drainOnce();
    await w.stop();
    expect(await recipientStates(s, [waited])).toEqual({ deferred: 1 });
    expect(await recipientStates(s, [plain])).toEqual({ bounced: 1 });
  } finally {
    await busy.close();
  }
});
