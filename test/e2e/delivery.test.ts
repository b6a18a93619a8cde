/** Delivery from the running relay to real upstreams on loopback: smart host and MX. */
import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { addTenant, cliOk, openDb, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { startUpstream, type Upstream, type UpstreamOptions } from "../support/upstream.ts";
import { startDns, type DnsServer } from "../support/dns-server.ts";
import { smtplibSend } from "../support/python.ts";
import { startSharedDb } from "../support/shared-db.ts";
import { waitFor } from "../support/wait.ts";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

interface Setup {
  dir: string;
  tenant: Tenant;
  upstream: Upstream;
  env: Record<string, string>;
  dbUrl: string;
}

const DELIVERY_ENV = { SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_RETRY_BASE_SECONDS: "1" };

/** `sharedDb`: the relays of the test share one real libSQL server (sqld) instead of a file. */
async function setup(up: UpstreamOptions = {}, routeQuery = "?tls=required", opts: { sharedDb?: boolean } = {}): Promise<Setup> {
  const dir = tempDir();
  cleanup.push(() => removeDir(dir));
  const upstream = await startUpstream(up);
  cleanup.push(() => upstream.close());
  let dbEnv: Record<string, string> = {};
  if (opts.sharedDb) {
    const shared = await startSharedDb(dir);
    cleanup.push(() => shared.sqld.stop());
    dbEnv = shared.env;
  }
  const tenant = await addTenant(dir, { env: dbEnv });
  const auth = up.auth ? `${up.auth.username}:${up.auth.password}@` : "";
  await cliOk(dir, ["route", "add", "*", `smtp://${auth}127.0.0.1:${upstream.port}${routeQuery}`], dbEnv);
  const ca = join(dir, "upstream-ca.pem");
  writeFileSync(ca, upstream.cert);
  return { dir, tenant, upstream, env: { ...DELIVERY_ENV, ...dbEnv, SMARTHOST_UPSTREAM_CA_FILE: ca }, dbUrl: dbEnv.SMARTHOST_DB_URL ?? `file:${join(dir, "smarthost.db")}` };
}

async function relay(dir: string, env: Record<string, string>): Promise<Relay> {
  const r = await startRelay(dir, env);
  cleanup.push(() => r.stop());
  return r;
}

async function status(r: Relay, key: string, id: string) {
  const res = await fetch(`${r.http}/v1/messages/${id}`, { headers: { authorization: `Bearer ${key}` } });
  return (await res.json()) as { status: string; recipients: { address: string; state: string; attempts: number; last_reply: string }[]; events: { type: string; recipient: string; detail: string }[] };
}

async function submit(r: Relay, key: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${r.http}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

describe("delivery through a provider relay (smtp-server with AUTH and STARTTLS)", () => {
  test("arrives byte-identical apart from the trace header, envelope preserved", async () => {
    const s = await setup({ auth: { username: "provider-user", password: "provider-pass" } });
    const r = await relay(s.dir, s.env);
    // With its own Date: and Message-ID:, so the relay adds none (src/mime/submission-fields.ts).
    const sent = "From: alice@example.com\r\nTo: bob@dest.test\r\nDate: Mon, 7 Dec 2026 08:00:00 +0000\r\nMessage-ID: <exact@example.com>\r\nSubject: exact bytes\r\n\r\nline one\r\n.dot line\r\n\r\nlast\r\n";
    const reply = await smtplibSend(r.smtpPort, s.tenant.username, s.tenant.password, "bounce-me@example.com", ["bob@dest.test", "carol@other.test"], sent);
    const id = /queued as (\S+)/.exec(reply)![1]!;
    await waitFor("delivery", () => s.upstream.received.length >= 2 || undefined);
    for (const got of s.upstream.received) {
      expect(got.mailFrom).toBe("bounce-me@example.com");
      expect(got.user).toBe("provider-user");
      expect(got.secure).toBe(true);
      const text = got.raw.toString("utf8");
      expect(text).toMatch(/^Received: from \[127\.0\.0\.1\] \(\[127\.0\.0\.1\]\)\r\n\tby relay\.test \(smarthost\) with ESMTPSA id /);
      expect(text.slice(text.indexOf("From: "))).toBe(sent);
    }
    expect(s.upstream.received.map((x) => x.rcptTo).flat().sort()).toEqual(["bob@dest.test", "carol@other.test"]);
    const st = await waitFor("status delivered", async () => {
      const v = await status(r, s.tenant.apiKey, id);
      return v.status === "delivered" ? v : undefined;
    });
    expect(st.recipients.every((x) => x.state === "delivered" && x.attempts === 1 && x.last_reply.startsWith("250"))).toBe(true);
    expect(st.events.map((e) => e.type)).toEqual(["accepted", "delivered", "delivered"]);
    expect(st.events[1]!.detail).toContain("via smtp://127.0.0.1:");
    expect(st.events[1]!.detail).not.toContain("provider-pass");
  }, 30_000);

  test("451 twice then 250: delivered on the third attempt", async () => {
    const s = await setup({ onData: (n) => (n <= 2 ? { code: 451, message: "4.3.0 try again later" } : null) });
    const r = await relay(s.dir, s.env);
    const id = await submit(r, s.tenant.apiKey, { from: "alice@example.com", to: ["bob@dest.test"], subject: "retry", text: "x" });
    const st = await waitFor("third attempt", async () => {
      const v = await status(r, s.tenant.apiKey, id);
      return v.status === "delivered" ? v : undefined;
    });
    expect(st.recipients[0]!.attempts).toBe(3);
    expect(st.events.map((e) => e.type)).toEqual(["accepted", "deferred", "deferred", "delivered"]);
    expect(st.events[1]!.detail).toContain("451 4.3.0 try again later");
    expect(s.upstream.received).toHaveLength(1);
    const q = await cliOk(s.dir, ["queue"]);
    expect(q).toBe("queue is empty");
  }, 30_000);

  test("550 for one of two recipients: one delivered, one DSN that parses as multipart/report", async () => {
    const s = await setup({ onRcpt: (a) => (a.startsWith("nobody@") ? { code: 550, message: "5.1.1 no such user here" } : null) });
    const r = await relay(s.dir, s.env);
    const id = await submit(r, s.tenant.apiKey, { from: "alice@example.com", to: ["bob@dest.test", "nobody@dest.test"], subject: "half", text: "x" });
    await waitFor("message and DSN", () => s.upstream.received.length >= 2 || undefined);
    const delivered = s.upstream.received.find((m) => m.mailFrom !== "")!;
    expect(delivered.rcptTo).toEqual(["bob@dest.test"]);
    const dsn = s.upstream.received.find((m) => m.mailFrom === "")!;
    expect(dsn.rcptTo).toEqual(["alice@example.com"]);
    const parsed = await simpleParser(dsn.raw);
    expect(parsed.headers.get("content-type")).toMatchObject({ value: "multipart/report", params: { "report-type": "delivery-status" } });
    const text = dsn.raw.toString();
    expect(text).toContain("Content-Type: message/delivery-status");
    expect(text).toContain("Final-Recipient: rfc822; nobody@dest.test");
    expect(text).toContain("Action: failed");
    expect(text).toContain("Status: 5.1.1");
    expect(text).toContain("Diagnostic-Code: smtp; 550 5.1.1 no such user here");
    expect(text).toContain("Subject: half");
    const st = await status(r, s.tenant.apiKey, id);
    expect(st.recipients.map((x) => x.state)).toEqual(["delivered", "bounced"]);
    // The DSN itself was delivered and is never bounced: its sender is null.
    const db = openDb(r.dbUrl);
    const dsnRow = (await db.execute("SELECT mail_from, source FROM messages WHERE source = 'dsn'")).rows;
    db.close();
    expect(dsnRow).toEqual([expect.objectContaining({ mail_from: "", source: "dsn" })]);
  }, 30_000);
});

describe("direct MX delivery (DNS server and MX on loopback)", () => {
  async function mxSetup(zone: Parameters<typeof startDns>[0], env: Record<string, string> = {}) {
    const dir = tempDir();
    cleanup.push(() => removeDir(dir));
    const upstream = await startUpstream();
    cleanup.push(() => upstream.close());
    const dns: DnsServer = await startDns(zone);
    cleanup.push(() => dns.close());
    const tenant = await addTenant(dir);
    const r = await relay(dir, { ...DELIVERY_ENV, SMARTHOST_DNS_SERVERS: dns.address, SMARTHOST_MX_PORT: String(upstream.port), SMARTHOST_ALLOW_PRIVATE_MX: "true", ...env });
    return { dir, upstream, tenant, r };
  }

  test("uses MX priority and moves to the next MX when the first refuses connections", async () => {
    const { upstream, tenant, r } = await mxSetup({
      mx: { "dest.test": [{ exchange: "mx2.dest.test", priority: 20 }, { exchange: "mx1.dest.test", priority: 10 }] },
      a: { "mx1.dest.test": ["127.0.0.2"], "mx2.dest.test": ["127.0.0.1"] },
    });
    // smtp-server listens on 127.0.0.1 only: the preferred MX (127.0.0.2) refuses.
    const id = await submit(r, tenant.apiKey, { from: "alice@example.com", to: ["bob@dest.test"], subject: "mx", text: "x" });
    await waitFor("MX delivery", () => upstream.received.length >= 1 || undefined);
    expect(upstream.received[0]!.secure).toBe(true);
    const st = await waitFor("delivered", async () => {
      const v = await status(r, tenant.apiKey, id);
      return v.status === "delivered" ? v : undefined;
    });
    expect(st.recipients).toEqual([expect.objectContaining({ address: "bob@dest.test", state: "delivered", attempts: 1 })]);
    expect(st.events.at(-1)).toMatchObject({ type: "delivered", recipient: "bob@dest.test" });
    expect(st.events.at(-1)!.detail).toContain("mx mx2.dest.test [127.0.0.1]");
  }, 30_000);

  test("falls back to the domain's A record when there is no MX", async () => {
    const { upstream, tenant, r } = await mxSetup({ a: { "plain.test": ["127.0.0.1"] } });
    await submit(r, tenant.apiKey, { from: "alice@example.com", to: ["x@plain.test"], text: "x" });
    await waitFor("A fallback", () => upstream.received.length >= 1 || undefined);
  }, 30_000);

  test("null MX bounces at once; MX on a private address is refused without the test switch", async () => {
    const zone = {
      mx: { "nullmx.test": [{ exchange: ".", priority: 0 }], "example.com": [{ exchange: "mx.example.com", priority: 10 }], "inside.test": [{ exchange: "mx.inside.test", priority: 10 }] },
      a: { "mx.example.com": ["127.0.0.1"], "mx.inside.test": ["10.0.0.5"] },
    };
    const { tenant, r } = await mxSetup(zone);
    const nullId = await submit(r, tenant.apiKey, { from: "alice@example.com", to: ["x@nullmx.test"], text: "x" });
    const st = await waitFor("null MX bounce", async () => {
      const v = await status(r, tenant.apiKey, nullId);
      return v.recipients[0]!.state === "bounced" ? v : undefined;
    });
    expect(st.recipients[0]!.last_reply).toContain("5.1.10");
    expect(st.recipients[0]!.attempts).toBe(1);

    const guarded = await mxSetup(zone, { SMARTHOST_ALLOW_PRIVATE_MX: "false" });
    const id = await submit(guarded.r, guarded.tenant.apiKey, { from: "alice@example.com", to: ["x@inside.test"], text: "x" });
    const g = await waitFor("private MX refusal", async () => {
      const v = await status(guarded.r, guarded.tenant.apiKey, id);
      return v.recipients[0]!.state === "bounced" ? v : undefined;
    });
    expect(g.recipients[0]!.last_reply).toContain("non-public");
    expect(guarded.upstream.received).toHaveLength(0);
  }, 40_000);
});

describe("stuck upstreams and giving up", () => {
  test("a stuck upstream cannot stall other destinations", async () => {
    const { createServer } = await import("node:net");
    const stuck = createServer(() => {}); // accepts, never greets
    await new Promise<void>((r) => stuck.listen(0, "127.0.0.1", () => r()));
    cleanup.push(() => void stuck.close());
    const s = await setup();
    await cliOk(s.dir, ["route", "add", "stuck.test", `smtp://127.0.0.1:${(stuck.address() as { port: number }).port}`]);
    const r = await relay(s.dir, { ...s.env, SMARTHOST_DELIVERY_CONCURRENCY: "4", SMARTHOST_DELIVERY_PER_DESTINATION: "1" });
    for (let i = 0; i < 6; i++) await submit(r, s.tenant.apiKey, { from: "alice@example.com", to: [`u${i}@stuck.test`], text: "x" });
    const id = await submit(r, s.tenant.apiKey, { from: "alice@example.com", to: ["fine@dest.test"], text: "x" });
    await waitFor("the other destination", async () => (await status(r, s.tenant.apiKey, id)).status === "delivered" || undefined, 10_000);
  }, 30_000);

  test("past the queue lifetime a deferred recipient bounces with 4.4.7 and a DSN", async () => {
    const s = await setup({ onRcpt: (a) => (a.startsWith("later@") ? { code: 451, message: "4.2.0 mailbox busy" } : null) });
    const r = await relay(s.dir, { ...s.env, SMARTHOST_QUEUE_LIFETIME_SECONDS: "2" });
    const id = await submit(r, s.tenant.apiKey, { from: "alice@example.com", to: ["later@dest.test"], subject: "expires", text: "x" });
    const st = await waitFor("expiry bounce", async () => {
      const v = await status(r, s.tenant.apiKey, id);
      return v.recipients[0]!.state === "bounced" ? v : undefined;
    }, 20_000);
    expect(st.recipients[0]!.last_reply).toContain("4.4.7");
    expect(st.recipients[0]!.last_reply).toContain("4.2.0 mailbox busy");
    await waitFor("the DSN", () => s.upstream.received.find((m) => m.mailFrom === "") ?? undefined);
    const dsn = s.upstream.received.find((m) => m.mailFrom === "")!.raw.toString();
    expect(dsn).toContain("Status: 4.4.7");
  }, 30_000);
});

describe("many workers, crashes", () => {
  test("two delivery processes on one database deliver 500 messages exactly once", async () => {
    const s = await setup({}, "?tls=required", { sharedDb: true });
    const env = { ...s.env, SMARTHOST_DELIVERY_CONCURRENCY: "20", SMARTHOST_DELIVERY_PER_DESTINATION: "20" };
    const [a, b] = [await relay(s.dir, env), await relay(s.dir, env)];
    const ids: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      ids.push(...(await Promise.all(Array.from({ length: 50 }, (_, i) => submit(batch % 2 ? a : b, s.tenant.apiKey, { from: "alice@example.com", to: [`r${batch * 50 + i}@dest.test`], subject: `n${batch * 50 + i}`, text: "x" })))));
    }
    await waitFor("500 deliveries", () => s.upstream.received.length >= 500 || undefined, 60_000);
    // Stopping waits for deliveries under way: once both have exited, no duplicate can still arrive.
    await Promise.all([a.stop(), b.stop()]);
    const rcpts = s.upstream.received.flatMap((m) => m.rcptTo);
    expect(rcpts).toHaveLength(500);
    expect(new Set(rcpts)).toEqual(new Set(Array.from({ length: 500 }, (_, i) => `r${i}@dest.test`)));
    const db = openDb(s.dbUrl);
    const rows = (await db.execute("SELECT m.id, r.state FROM messages m JOIN recipients r ON r.message_id = m.id")).rows;
    db.close();
    expect(new Set(rows.map((x) => x.id))).toEqual(new Set(ids));
    expect(rows.filter((x) => x.state === "delivered")).toHaveLength(500);
  }, 90_000);

  test("kill -9 mid-delivery, restart: every message delivered, none lost", async () => {
    const s = await setup({ delayMs: 100 });
    const env = { ...s.env, SMARTHOST_DELIVERY_LEASE_SECONDS: "2" };
    const first = await startRelay(s.dir, env);
    for (let i = 0; i < 40; i++) await submit(first, s.tenant.apiKey, { from: "alice@example.com", to: [`k${i}@dest.test`], subject: `k${i}`, text: "x" });
    await waitFor("some deliveries", () => s.upstream.received.length >= 5 || undefined);
    await first.kill9();
    const before = s.upstream.received.length;
    expect(before).toBeLessThan(40);
    await relay(s.dir, env);
    // The upstream may hold a copy the killed process sent but never recorded: its recipient is
    // delivered again once the dead lease ends. Done is when the queue says so, not the upstream.
    const db = openDb(`file:${join(s.dir, "smarthost.db")}`);
    const states = async () => (await db.execute("SELECT state, count(*) AS n FROM recipients GROUP BY state")).rows;
    try {
      await waitFor("all 40 recorded as delivered", async () => ((await states()).some((r) => r.state === "delivered" && Number(r.n) === 40) ? true : undefined), 60_000);
      expect(await states()).toEqual([expect.objectContaining({ state: "delivered", n: 40 })]);
    } finally {
      db.close();
    }
    expect(new Set(s.upstream.received.flatMap((m) => m.rcptTo)).size).toBe(40);
    console.log(`kill -9 delivery test: ${before} delivered before the kill, all 40 after restart (${s.upstream.received.length} deliveries in all)`);
  }, 90_000);
});
