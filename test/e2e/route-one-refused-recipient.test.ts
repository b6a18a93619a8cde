/**
 * A provider relay (a real smtp-server on loopback) that refuses exactly one address with
 * 550 5.7.1 at RCPT and accepts the others: the refusal is about that recipient, not the
 * route. It bounces (a DSN to the sender, no suppression for a 5.7.x); the others are
 * delivered; the route stays up and later mail goes at once, not after a down window.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { DeliveryWorker } from "../../src/delivery/worker.ts";
import { enqueueMessage } from "../../src/queue/enqueue.ts";
import { recentRouteEvents } from "../../src/shaping/route-events.ts";
import { listRouteHealth } from "../../src/shaping/route-health.ts";
import { newId } from "../../src/smtp/ids.ts";
import { removeDir } from "../support/relay.ts";
import { addTestRoute, openShapingDb, queueMessages, recipientStates, routeLabel, shapingWorker, subjects, type ShapingDb } from "../support/shaping.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";

const POISON = "refused@dest.test";
// A down window far longer than the test waits: mail held by one would time the test out.
const BREAKER = { threshold: 3, baseMs: 120_000, maxMs: 600_000, probeMs: 120_000 };

let s: ShapingDb;
let relay: Upstream;
let worker: DeliveryWorker;

beforeAll(async () => {
  s = await openShapingDb("one-refused.db");
  // The sending account (messages reference it where the schema says so).
  await s.database.sql.execute("INSERT OR IGNORE INTO accounts (id, name, created_at) VALUES ('a', 'a', 0)");
  relay = await startUpstream({
    extra: { closeTimeout: 50 },
    onRcpt: (address) => (address === POISON ? { code: 550, message: "5.7.1 Recipient address rejected: Access denied" } : null),
  });
  await addTestRoute(s, "dest.test", relay.port, 0);
  worker = shapingWorker(s, { breaker: BREAKER });
  worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await relay?.close();
  s?.database.close();
  if (s) removeDir(s.dir);
});

async function queueTo(recipients: string[], subject: string): Promise<string> {
  const id = newId();
  const raw = new TextEncoder().encode(`From: app@example.com\r\nSubject: ${subject}\r\n\r\nhi\r\n`);
  await enqueueMessage(s.writer, { id, accountId: "a", source: "smtp", mailFrom: "app@example.com", raw, recipients: recipients.map((address) => ({ address, domain: "dest.test" })), smtputf8: false }, Date.now(), null);
  return id;
}

const routeRow = async () => (await listRouteHealth(s.database.sql)).find((r) => r.route === routeLabel(relay.port));
/** The operators' route events and the gate's own log: no route.degraded anywhere. */
const degradations = async () => [...(await recentRouteEvents(s.database.sql)).map((e) => e.type), ...s.logged.filter((l) => l.event === "route_degraded").map((l) => l.event)];

test("one recipient refused with 550 5.7.1 among several: it bounces, the others are delivered, the route stays up", async () => {
  const id = await queueTo(["first@dest.test", POISON, "second@dest.test"], "mixed");
  worker.kick();
  await waitFor("every recipient decided", async () => {
    const st = await recipientStates(s, [id]);
    return (st.delivered ?? 0) + (st.bounced ?? 0) === 3 && st;
  });
  expect(await recipientStates(s, [id])).toEqual({ delivered: 2, bounced: 1 });
  expect(relay.received.map((m) => m.rcptTo)).toEqual([["first@dest.test", "second@dest.test"]]);

  const refused = (await s.database.sql.execute({ sql: "SELECT state, last_code, last_enhanced FROM recipients WHERE message_id = ? AND address = ?", args: [id, POISON] })).rows[0]!;
  expect([refused.state, Number(refused.last_code), refused.last_enhanced]).toEqual(["bounced", 550, "5.7.1"]);
  // The DSN (RFC 3464) goes to the envelope sender.
  const dsn = await waitFor("the DSN queued", async () => (await s.database.sql.execute("SELECT r.address FROM messages m JOIN recipients r ON r.message_id = m.id WHERE m.source = 'dsn'")).rows[0]);
  expect(dsn.address).toBe("app@example.com");
  // A relay's 5.7.x is policy, never the recipient's fault (src/suppression/policy.ts).
  expect(Number((await s.database.sql.execute("SELECT count(*) AS n FROM suppressions")).rows[0]!.n)).toBe(0);

  expect((await routeRow())?.state ?? "up").toBe("up");
  expect(await degradations()).toEqual([]);
}, 60_000);

test("later mail on the route, to the refused address and to others, is not held by a down window", async () => {
  const mixed = await Promise.all([0, 1, 2].map((i) => queueTo([`a${i}@dest.test`, POISON, `b${i}@dest.test`], `again ${i}`)));
  worker.kick();
  await waitFor("the refused recipients bounced and the others delivered", async () => {
    const st = await recipientStates(s, mixed);
    return st.delivered === 6 && st.bounced === 3;
  });
  // The refused address alone in its message: every recipient refused, but this relay has
  // refused that address on its own before, so it says nothing about the route.
  const alone = await queueTo([POISON], "alone");
  worker.kick();
  await waitFor("the lone refused recipient tried", async () => (await recipientStates(s, [alone])).deferred === 1);
  const later = await queueMessages(s, "dest.test", 3, "later");
  worker.kick();
  // The down window (120 s) is far longer than this wait: an arrival here means none held it.
  await waitFor("the later messages arrive", () => subjects(relay.received).filter((x) => x.startsWith("later")).length === 3, 30_000);
  expect(await recipientStates(s, later)).toEqual({ delivered: 3 });
  const row = await routeRow();
  expect(row?.state ?? "up").toBe("up");
  expect(row?.failures ?? 0).toBe(0);
  expect(await degradations()).toEqual([]);
}, 60_000);
