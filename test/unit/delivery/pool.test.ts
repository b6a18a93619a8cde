import { afterEach, expect, test } from "bun:test";
import { ConnectionPool } from "../../../src/delivery/pool.ts";
import type { SmtpTarget } from "../../../src/delivery/smtp-client.ts";
import type { OutboundMessage } from "../../../src/delivery/smtp-transaction.ts";
import { createNodeConnect } from "../../../src/runtime/node-socket.ts";
import { startUpstream, type Upstream } from "../../support/upstream.ts";
import { withTimeout } from "../../support/wait.ts";

const ups: Upstream[] = [];
const pools: ConnectionPool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.closeAll();
  for (const u of ups.splice(0)) await u.close();
});

const msg = (n: number): OutboundMessage => ({
  mailFrom: "a@example.com",
  recipients: [{ address: `r${n}@dest.test` }],
  raw: new TextEncoder().encode(`From: a@example.com\r\nSubject: ${n}\r\n\r\nbody\r\n`),
  smtputf8: false,
});

async function setup(extra = {}) {
  let connections = 0;
  const u = await startUpstream({ extra: { onConnect: (_s: unknown, cb: () => void) => (connections++, cb()), ...extra } });
  ups.push(u);
  const pool = new ConnectionPool(createNodeConnect({ ca: [u.cert] }), { ehloName: "relay.test" }, 5_000, 3);
  pools.push(pool);
  const target: SmtpTarget = { hostname: "127.0.0.1", port: u.port, tls: "starttls-required", verifyTls: true, relay: true };
  return { u, pool, target, connections: () => connections };
}

test("sends several messages over one connection, up to the use limit", async () => {
  const { u, pool, target, connections } = await setup();
  for (let i = 0; i < 4; i++) expect((await pool.send(target, msg(i))).results[0]!.outcome).toBe("delivered");
  expect(u.received.map((m) => m.rcptTo[0])).toEqual(["r0@dest.test", "r1@dest.test", "r2@dest.test", "r3@dest.test"]);
  // Three uses per connection: the fourth message needed a second one.
  expect(connections()).toBe(2);
});

test("a pooled connection the server closed while idle is replaced, and the message still goes", async () => {
  let serverClosed!: () => void;
  const closedByServer = new Promise<void>((r) => (serverClosed = r));
  const { u, pool, target, connections } = await setup({ socketTimeout: 300, onClose: () => serverClosed() });
  expect((await pool.send(target, msg(1))).results[0]!.outcome).toBe("delivered");
  // The server times the idle pooled connection out; the pool has not been told.
  await withTimeout(closedByServer, 5_000, "the server closing the idle connection");
  const second = await pool.send(target, msg(2));
  expect(second.results[0]!.outcome).toBe("delivered");
  expect(u.received).toHaveLength(2);
  expect(connections()).toBe(2);
});

test("after a refused transaction the connection is reset and reused", async () => {
  const { u, pool, target, connections } = await setup({
    onMailFrom: (a: { address: string }, _s: unknown, cb: (e?: Error) => void) => cb(a.address.startsWith("bad") ? Object.assign(new Error("5.1.8 sender domain does not exist"), { responseCode: 550 }) : undefined),
  });
  const refused = await pool.send(target, { ...msg(1), mailFrom: "bad@example.com" });
  expect(refused.results[0]!.outcome).toBe("permanent");
  expect((await pool.send(target, msg(2))).results[0]!.outcome).toBe("delivered");
  expect(u.received).toHaveLength(1);
  expect(connections()).toBe(1);
});
