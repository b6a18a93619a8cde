/**
 * `--over-limit hold` end to end in one process: a Gateway and a DeliveryWorker on one
 * real libSQL file, a real smtp-server upstream on loopback, and a clock the test moves a
 * minute at a time (both take an injected `now`), so "10 a minute" is shown without
 * waiting minutes.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { listQueue } from "../../src/admin/queue.ts";
import { DeliveryWorker } from "../../src/delivery/worker.ts";
import { toHttpError, toSmtpReply } from "../../src/gateway/errors.ts";
import { GroupCommit } from "../../src/db/group-commit.ts";
import { createNodeConnect } from "../../src/runtime/node-socket.ts";
import { createResolver } from "../../src/runtime/node-dns.ts";
import { gatewayFixture, type GatewayFixture } from "../unit/policy/gateway-fixture.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";
import { Failure } from "../../src/core/failure.ts";

const MINUTE = 60_000;
// The start of a minute window, plus a second: every submission falls in one window.
let t = Math.floor(Date.now() / MINUTE) * MINUTE + 1000;
const clock = () => t;

let f: GatewayFixture;
let upstream: Upstream;
let worker: DeliveryWorker;

beforeAll(async () => {
  upstream = await startUpstream({ extra: { closeTimeout: 50 } });
  f = await gatewayFixture({ now: clock });
  await f.client.execute("UPDATE accounts SET per_minute = 10, over_limit = 'hold', hold_backlog = 25 WHERE id = 'acct'");
  await f.client.execute({ sql: "INSERT INTO routes (domain, url, position) VALUES ('*', ?, 0)", args: [`smtp://127.0.0.1:${upstream.port}?tls=none`] });
});

afterAll(async () => {
  await worker?.stop();
  await upstream?.close();
  f?.close();
});

const submit = (i: number) =>
  f.gateway.submit({ accountId: "acct", source: "http", mailFrom: "app@example.com", recipients: [{ address: `r${i}@dest.test`, domain: "dest.test" }], raw: new TextEncoder().encode(`From: app@example.com\r\nSubject: m${i}\r\n\r\nhi\r\n`) });

async function count(sql: string): Promise<number> {
  return Number((await f.client.execute(sql)).rows[0]!.n);
}

test("limit 10/min with hold: 35 accepted at once, 25 held (over_quota, message.held), the backlog cap refuses with 451 4.7.1 / 429, then 10 delivered per window, oldest first", async () => {
  for (let i = 0; i < 35; i++) await submit(i);
  expect(await count("SELECT count(*) AS n FROM recipients WHERE state = 'queued'")).toBe(10);
  expect(await count("SELECT count(*) AS n FROM recipients WHERE state = 'held' AND hold_reason = 'over_quota'")).toBe(25);
  expect(await count("SELECT count(*) AS n FROM account_events WHERE type = 'message.held'")).toBe(25);
  // queue --state held shows why.
  const held = await listQueue(f.database.db, { state: "held" });
  expect(held.length).toBe(25);
  expect(held.every((r) => r.last_reply?.startsWith("held: over_quota"))).toBe(true);

  // The backlog is full: the 36th is refused as over-limit mail was before.
  const refused = await submit(35).then(() => null, (e: unknown) => e);
  expect(refused).toBeInstanceOf(Failure);
  const reply = toSmtpReply(refused as Failure);
  expect([reply.code, reply.enhanced]).toEqual([451, "4.7.1"]);
  expect(toHttpError(refused as Failure).status).toBe(429);
  expect(await count("SELECT count(*) AS n FROM messages")).toBe(35);

  worker = new DeliveryWorker({
    db: f.database.db,
    sql: f.database.sql,
    writer: new GroupCommit(f.database.sql),
    connect: createNodeConnect({}),
    resolver: createResolver([]),
    log: () => {},
    now: clock,
    config: { hostname: "relay.test", retryBaseMs: 60_000, lifetimeMs: 86_400_000, allowPrivateMx: true, mxPort: 25, defaultUpstream: "mx", concurrency: 4, perDestination: 4, leaseMs: 600_000, pollMs: 50 },
  });
  worker.start();
  const subjectsOf = () => upstream.received.map((m) => Number(/Subject: m(\d+)/.exec(m.raw.toString())![1]));
  for (const [minute, expected] of [[0, 10], [1, 20], [2, 30], [3, 35]] as const) {
    t = Math.floor(clock() / MINUTE) * MINUTE + (minute === 0 ? 1000 : MINUTE + 1000);
    worker.kick();
    await waitFor(`${expected} delivered`, () => upstream.received.length >= expected);
    // Exactly the window's worth: whatever is still held waits for the next minute.
    await waitFor("the window's releases settled", async () => (await count("SELECT count(*) AS n FROM recipients WHERE state = 'held'")) === 35 - expected);
    expect(upstream.received.length).toBe(expected);
    // Oldest first: each window takes the next messages in the order they came.
    const from = Math.floor((expected - 1) / 10) * 10;
    expect(subjectsOf().slice(from).sort((x, y) => x - y)).toEqual(Array.from({ length: expected - from }, (_, i) => from + i));
  }
  expect(await count("SELECT count(*) AS n FROM recipients WHERE state = 'delivered'")).toBe(35);
}, 60_000);

test("SMARTHOST_HOLD_BACKLOG is the cap of an account that sets none", async () => {
  const g = await gatewayFixture({ now: clock, holdBacklog: 2 });
  try {
    await g.client.execute("UPDATE accounts SET per_minute = 1, over_limit = 'hold' WHERE id = 'acct'");
    const send = (i: number) => g.gateway.submit({ accountId: "acct", source: "smtp", mailFrom: "app@example.com", recipients: [{ address: `r${i}@dest.test`, domain: "dest.test" }], raw: new TextEncoder().encode(`From: app@example.com\r\nSubject: m${i}\r\n\r\nhi\r\n`) });
    for (let i = 0; i < 3; i++) await send(i);
    const refused = await send(3).then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(Failure);
    expect((refused as Failure).kind).toBe("rate-limited");
    const states = (await g.client.execute("SELECT state, count(*) AS n FROM recipients GROUP BY state ORDER BY state")).rows.map((r) => [String(r.state), Number(r.n)]);
    expect(states).toEqual([["held", 2], ["queued", 1]]);
  } finally {
    g.close();
  }
});
