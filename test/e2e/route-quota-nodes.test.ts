/**
 * Two all-in-one processes on one real libSQL server (sqld), both delivering through one
 * provider route with a daily quota: together they send exactly the quota, and the rest
 * waits.
 */
import { afterAll, expect, test } from "bun:test";
import { addTenant, cliOk, openDb, removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";
import { startSharedDb, type SharedDb } from "../support/shared-db.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";

const dir = tempDir();
const relays: Relay[] = [];
let upstream: Upstream | null = null;
let shared: SharedDb | null = null;
afterAll(async () => {
  for (const r of relays) await r.stop();
  await upstream?.close();
  await shared?.sqld.stop();
  removeDir(dir);
});

test("a route quota of 7 a day admits exactly 7 across two nodes; the rest waits with reason route_quota", async () => {
  upstream = await startUpstream();
  shared = await startSharedDb(dir);
  const tenant = await addTenant(dir, { env: shared.env });
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=none`, "--per-day", "7"], shared.env);
  // A few leases at a time, so both nodes take part.
  const env = { ...shared.env, SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "50", SMARTHOST_DELIVERY_CONCURRENCY: "2" };
  relays.push(await startRelay(dir, env), await startRelay(dir, env));
  const results = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      fetch(`${relays[i % 2]!.http}/v1/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${tenant.apiKey}` },
        body: JSON.stringify({ from: "alice@example.com", to: [`r${i}@dest.test`], subject: `m${i}`, text: "hello" }),
      }),
    ),
  );
  expect(results.every((r) => r.status === 202)).toBe(true);
  const db = openDb(shared.url);
  try {
    const waiting = async () => Number((await db.execute("SELECT count(*) AS n FROM recipients WHERE state IN ('queued', 'deferred') AND last_reply LIKE 'route_quota:%' AND attempts = 0")).rows[0]!.n);
    const delivered = async () => Number((await db.execute("SELECT count(*) AS n FROM recipients WHERE state = 'delivered'")).rows[0]!.n);
    await waitFor("7 delivered and 23 waiting for the quota", async () => (await waiting()) === 23 && (await delivered()) === 7, 30_000);
    expect(upstream.received.length).toBe(7);
    const states = (await db.execute("SELECT state, count(*) AS n FROM recipients GROUP BY state")).rows.map((r) => [String(r.state), Number(r.n)]);
    expect(Object.fromEntries(states)).toEqual({ delivered: 7, deferred: 23 });
    // They wait for the next UTC day, not a retry backoff.
    const next = Number((await db.execute("SELECT min(next_attempt_at) AS t FROM recipients WHERE state = 'deferred'")).rows[0]!.t);
    expect(next).toBe(Date.now() - (Date.now() % 86_400_000) + 86_400_000);
    // Both nodes asked for the quota: each delivered or was told to wait.
    expect(relays.every((r) => /"event":"(delivered|waiting)"/.test(r.logs()))).toBe(true);
    expect(Number((await db.execute("SELECT day_count FROM route_counters")).rows[0]!.day_count)).toBe(7);
  } finally {
    db.close();
  }
}, 60_000);
