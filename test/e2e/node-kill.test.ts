/**
 * Two all-in-one nodes on one real libSQL server (sqld), both accepting (SMTP and HTTP)
 * and delivering to one upstream under load; one is killed with SIGKILL mid-stream.
 * Nothing acknowledged is lost, and what the dead node had leased is delivered by the
 * survivor once that lease has ended — never before.
 *
 * A copy can arrive twice only when the dead node had handed it to the upstream and died
 * before recording the outcome (RFC 1047's window): every duplicate must be one of those.
 */
import { afterAll, expect, test } from "bun:test";
import nodemailer, { type Transporter } from "nodemailer";
import { addTenant, cliOk, openDb, removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";
import { startSharedDb, type SharedDb } from "../support/shared-db.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";

const N = 600;
// The node that dies holds its leases for 3 s; the survivor's are long, so that at the
// kill every live lease ending within 30 s is the dead node's (lease_owner names a worker,
// not a node), and the survivor may take them only after they end.
const DEAD_LEASE_S = 3;
const SURVIVOR_LEASE_S = 120;
const SPLIT_MS = 30_000;
// A copy the dead node handed over but had not recorded: at most this long before the kill.
const RECORD_WINDOW_MS = 1_000;
// Duplicates: what was in that window at the kill (5–13 of ~600 measured on 2 saturated cores).
const MAX_TWICE = 0.03;

const dir = tempDir();
let shared: SharedDb | null = null;
let upstream: Upstream | null = null;
const relays: Relay[] = [];
const transports: Transporter[] = [];
afterAll(async () => {
  for (const t of transports) t.close();
  for (const r of relays) await r.stop();
  await upstream?.close();
  await shared?.sqld.stop();
  removeDir(dir);
});

interface Ack {
  id: string;
  rcpt: string;
  node: "a" | "b";
  via: "smtp" | "http";
}

test("kill -9 of one of two nodes under load: nothing acknowledged lost, a copy twice only when the dead node had handed it over in its last second, its leases delivered by the survivor after they end", async () => {
  shared = await startSharedDb(dir);
  upstream = await startUpstream();
  const tenant = await addTenant(dir, { env: shared.env });
  // SMTP clients on loopback send as the account without AUTH.
  await cliOk(dir, ["network", "allow", tenant.account, "127.0.0.1/32"], shared.env);
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=none`], shared.env);
  // Two connections to the upstream per node and a few leases ahead: work is always leased
  // and waiting on each node, so the kill finds some.
  const env = { ...shared.env, SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_DELIVERY_CONCURRENCY: "4", SMARTHOST_DELIVERY_PER_DESTINATION: "2" };
  const a = await startRelay(dir, { ...env, SMARTHOST_HOSTNAME: "node-a.test", SMARTHOST_DELIVERY_LEASE_SECONDS: String(DEAD_LEASE_S) });
  relays.push(a);
  const b = await startRelay(dir, { ...env, SMARTHOST_HOSTNAME: "node-b.test", SMARTHOST_DELIVERY_LEASE_SECONDS: String(SURVIVOR_LEASE_S) });
  relays.push(b);
  const db = openDb(shared.url);

  const acked: Ack[] = [];
  const refused: string[] = [];
  let killed = false;
  let next = 0;
  const smtpTo = (r: Relay) => {
    const t = nodemailer.createTransport({ host: "127.0.0.1", port: r.smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, maxMessages: Infinity });
    transports.push(t);
    return t;
  };
  const sendSmtp = async (t: Transporter, rcpt: string): Promise<string> => {
    const info = await t.sendMail({ envelope: { from: "app@example.com", to: [rcpt] }, raw: `From: app@example.com\r\nTo: ${rcpt}\r\nSubject: ${rcpt}\r\n\r\n${"x".repeat(500)}\r\n` });
    const id = /queued as (\S+)/.exec(String(info.response))?.[1];
    if (!id) throw new Error(`no queue id in ${info.response}`);
    return id;
  };
  const sendHttp = async (r: Relay, rcpt: string): Promise<string> => {
    const res = await fetch(`${r.http}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${tenant.apiKey}` },
      body: JSON.stringify({ from: "app@example.com", to: [rcpt], subject: rcpt, text: "y".repeat(500) }),
    });
    if (res.status !== 202) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };
  // Three SMTP sessions and three HTTP clients on each node take numbers until N are sent;
  // a sender on the killed node stops at its first failure after the kill.
  const sender = (node: "a" | "b", via: "smtp" | "http") => async () => {
    const r = node === "a" ? a : b;
    const t = via === "smtp" ? smtpTo(r) : null;
    for (;;) {
      const i = next++;
      if (i >= N) return;
      const rcpt = `m${i}@dest.test`;
      try {
        const id = t ? await sendSmtp(t, rcpt) : await sendHttp(r, rcpt);
        acked.push({ id, rcpt, node, via });
      } catch (err) {
        if (node === "a" && killed) return;
        refused.push(`${rcpt} on node ${node}: ${(err as Error).message}`);
      }
    }
  };
  const senders = (["a", "b"] as const).flatMap((node) => (["smtp", "http"] as const).flatMap((via) => [1, 2, 3].map(() => sender(node, via)())));

  // Killed once a third is acknowledged and the node holds leases on undelivered mail.
  const leasedByA = async () =>
    Number((await db.execute({ sql: "SELECT count(*) AS n FROM recipients WHERE state IN ('queued', 'deferred') AND lease_until > ?1 AND lease_until < ?1 + ?2", args: [Date.now(), SPLIT_MS] })).rows[0]!.n);
  await waitFor("a third acknowledged, node a holding leases", async () => acked.length >= N / 3 && (await leasedByA()) > 0, 60_000);
  killed = true;
  await a.kill9();
  const killedAt = Date.now();
  // What the dead node held: its leases run until at most DEAD_LEASE_S after the kill.
  const held = (
    await db.execute({
      sql: "SELECT address, lease_until FROM recipients WHERE state IN ('queued', 'deferred') AND lease_until > ?1 AND lease_until < ?1 + ?2",
      args: [killedAt, SPLIT_MS],
    })
  ).rows.map((r) => ({ rcpt: String(r.address), until: Number(r.lease_until) }));
  await Promise.all(senders);

  await waitFor("nothing left to deliver", async () => Number((await db.execute("SELECT count(*) AS n FROM recipients WHERE state IN ('queued', 'deferred')")).rows[0]!.n) === 0, 60_000);
  // Stopping waits for deliveries under way: no copy can still arrive after this.
  await b.stop();
  const states = new Map((await db.execute("SELECT m.id, r.state FROM messages m JOIN recipients r ON r.message_id = m.id")).rows.map((r) => [String(r.id), String(r.state)]));
  db.close();

  expect(refused).toEqual([]);
  expect(acked.filter((x) => states.get(x.id) !== "delivered")).toEqual([]);
  const copies = new Map<string, { at: number; helo: string; raw: string }[]>();
  for (const m of upstream.received) for (const rcpt of m.rcptTo) copies.set(rcpt, [...(copies.get(rcpt) ?? []), { at: m.at, helo: m.helo, raw: m.raw.toString("latin1") }]);

  // Nothing acknowledged is lost, and what arrived is the message acknowledged (SMTP's trace
  // header names the queue id).
  const lost = acked.filter((x) => !copies.has(x.rcpt));
  expect(lost).toEqual([]);
  for (const x of acked.filter((x) => x.via === "smtp")) expect(copies.get(x.rcpt)![0]!.raw).toContain(` id ${x.id}`);
  const twice = [...copies].filter(([, c]) => c.length > 1).map(([rcpt, c]) => ({ rcpt, leaseUntil: held.find((h) => h.rcpt === rcpt)?.until ?? null, copies: c.map((x) => `${x.helo} ${x.at - killedAt} ms after the kill`) }));
  // Each duplicate: held by the dead node, which gave it to the upstream before dying, then
  // the survivor's copy — never two live nodes, never one node twice.
  // The dead node's copy went in the last moments before the kill: an outcome is recorded
  // within a second of the upstream's 250 (measured: 25–180 ms with both cores saturated).
  for (const d of twice) {
    const before = Number(/^node-a\.test (-\d+) ms/.exec(d.copies[0] ?? "")?.[1] ?? NaN);
    const explained = d.leaseUntil !== null && d.copies.length === 2 && before < 0 && before > -RECORD_WINDOW_MS && d.copies[1]!.startsWith("node-b.test ");
    expect({ ...d, explained }).toEqual({ ...d, explained: true });
  }
  // How many is the delivery rate times that window, not a share of the run: bounded here,
  // and reported (README "Several nodes").
  expect({ twice: twice.length, of: acked.length }).toEqual({ twice: Math.min(twice.length, Math.ceil(acked.length * MAX_TWICE)), of: acked.length });

  // The dead node's leases: each delivered by the survivor, and only after the lease ended.
  expect(held.length).toBeGreaterThan(0);
  for (const h of held) {
    const bySurvivor = (copies.get(h.rcpt) ?? []).filter((c) => c.helo === "node-b.test");
    expect({ rcpt: h.rcpt, survivor: bySurvivor.length > 0 }).toEqual({ rcpt: h.rcpt, survivor: true });
    for (const c of bySurvivor) expect(c.at).toBeGreaterThanOrEqual(h.until);
  }
  const fromA = acked.filter((x) => x.node === "a").length;
  console.log(
    `node kill: ${acked.length} of ${N} acknowledged (${fromA} by the killed node), ${N - acked.length} cut off by the kill, ${held.length} leased by the killed node and delivered by the survivor after their lease, ${twice.length} delivered twice, ${upstream.received.length} deliveries in all`,
  );
}, 120_000);
