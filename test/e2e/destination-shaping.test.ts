/**
 * Per-destination pacing with real peers on loopback: a DNS server with the MX records,
 * smtp-server MXes, the delivery worker on a real libSQL file. A shape's connections and
 * per-minute hold at the destination; a "try later" halves its pace.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { DeliveryWorker } from "../../src/delivery/worker.ts";
import { addShape } from "../../src/shaping/shapes.ts";
import { createResolver } from "../../src/runtime/node-dns.ts";
import { startDns, type DnsServer } from "../support/dns-server.ts";
import { removeDir } from "../support/relay.ts";
import { openShapingDb, queueMessages, recipientStates, shapingWorker, type ShapingDb } from "../support/shaping.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";

let s: ShapingDb;
let dns: DnsServer;
let mx: Upstream;
let worker: DeliveryWorker;
let open = 0;
let mostOpen = 0;
let tryLater = 0;

beforeAll(async () => {
  s = await openShapingDb("shapes.db");
  mx = await startUpstream({
    extra: {
      closeTimeout: 50,
      onConnect: (_session, cb) => {
        mostOpen = Math.max(mostOpen, ++open);
        cb();
      },
      onClose: () => void open--,
    },
    // hosted.test's first two attempts are deferred the way Gmail defers a fast sender:
    // 421 at RCPT, then the connection closed (smtp-server closes after a 421).
    onRcpt: (address) => (address.endsWith("@hosted.test") && tryLater++ < 2 ? { code: 421, message: "4.7.28 Our system has detected an unusual rate of mail, try again later" } : null),
  });
  dns = await startDns({
    mx: { "paced.test": [{ exchange: "mx.paced.test", priority: 10 }], "hosted.test": [{ exchange: "in1.mx-host.test", priority: 10 }] },
    a: { "mx.paced.test": ["127.0.0.1"], "in1.mx-host.test": ["127.0.0.1"] },
  });
  // Shapes are read every few seconds by delivery: in place before it starts.
  await addShape(s.database.db, "paced.test", { connections: 1, perMinute: 120 }, Date.now());
  await addShape(s.database.db, "*.mx-host.test", { perMinute: 600 }, Date.now());
  worker = shapingWorker(s, { mxPort: mx.port, retryBaseMs: 200, concurrency: 8, perDestination: 8, reuseConnections: false }, createResolver([dns.address]));
  worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await mx?.close();
  await dns?.close();
  s?.database.close();
  if (s) removeDir(s.dir);
});

test("shape add DOMAIN --connections 1 --per-minute 120: one session at a time, 500 ms apart, none lost", async () => {
  const ids = await queueMessages(s, "paced.test", 6, "paced");
  worker.kick();
  await waitFor("6 delivered", async () => (await recipientStates(s, ids)).delivered === 6, 20_000);
  const at = mx.received.filter((m) => m.rcptTo[0]?.endsWith("@paced.test")).map((m) => m.at).sort((a, b) => a - b);
  expect(at.length).toBe(6);
  // Spaced by the pace (a little less for the time between claiming a slot and the MX's answer).
  for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(400);
  expect(mostOpen).toBe(1);
}, 30_000);

test("an MX host pattern shapes every domain hosted there; 421 4.7.28 halves the pace, deliveries bring it back", async () => {
  const ids = await queueMessages(s, "hosted.test", 3, "hosted");
  worker.kick();
  await waitFor("3 delivered", async () => (await recipientStates(s, ids)).delivered === 3, 20_000);
  const slowed = s.logged.filter((l) => l.event === "destination_slowed").map((l) => l.fields.rate_per_minute);
  expect(slowed).toEqual([300, 150]);
  const rate = Number((await s.database.sql.execute("SELECT rate FROM destination_pace WHERE destination = '*.mx-host.test'")).rows[0]!.rate);
  expect(rate).toBe(150 + 3 * 60);
}, 30_000);
