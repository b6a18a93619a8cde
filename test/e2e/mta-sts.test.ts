/**
 * MTA-STS on MX delivery, with real peers on loopback: a DNS server (dns2) with the MX,
 * A and `_mta-sts` records, an HTTPS server serving the policies (test certificates), and
 * smtp-server MXes — one whose certificate matches its MX name, one whose does not, one
 * not trusted, one expired, one without STARTTLS. The delivery worker runs on a real
 * libSQL file and real sockets; each attempt's TLS outcome is read back from the event,
 * the recipient, GET /v1/messages/:id, `queue show --json` and /metrics.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { messageView } from "../../src/queue/message-view.ts";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import type { Database } from "../../src/db/client.ts";
import { createMtaSts } from "../../src/delivery/mta-sts.ts";
import type { TlsRecord } from "../../src/core/tls-record.ts";
import { DeliveryWorker } from "../../src/delivery/worker.ts";
import { GroupCommit } from "../../src/db/group-commit.ts";
import { enqueueMessage } from "../../src/queue/enqueue.ts";
import { openDatabase } from "../../src/runtime/bun-db.ts";
import { createDnsResolve } from "../../src/runtime/node-dns-records.ts";
import { createNodeConnect } from "../../src/runtime/node-socket.ts";
import { createPolicyFetch } from "../../src/runtime/node-policy-fetch.ts";
import { createResolver } from "../../src/runtime/node-dns.ts";
import { newId } from "../../src/smtp/ids.ts";
import { startDns, type DnsServer, type Zone } from "../support/dns-server.ts";
import { cli, removeDir, tempDir } from "../support/relay.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { certificate, storedTls, tlsCount as counted } from "../support/tls-outcomes.ts";

const DOMAINS = ["good", "wrongcert", "plain", "nomatch", "testing", "cached", "off", "untrusted", "expired", "testcert", "webpki", "badpolicy", "retried"].map((d) => `${d}.test`);

let dir = "";
let database: Database;
let writer: GroupCommit;
let dns: DnsServer;
let https: Server;
let httpsPort = 0;
let ca: string[] = [];
const zone: Required<Pick<Zone, "txt" | "mx" | "a">> = { txt: {}, mx: {}, a: {} };
/** Policy text by host; a number is an HTTP status to answer instead. */
const policies: Record<string, string | number> = {};
const logged: { event: string; fields: Record<string, unknown> }[] = [];
let mxGood: Upstream;
let mxWrongCert: Upstream;
let mxPlain: Upstream;
let mxUntrusted: Upstream;
let mxExpired: Upstream;

beforeAll(async () => {
  dir = tempDir();
  database = await openDatabase(`file:${join(dir, "sts.db")}`);
  await database.client.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a', 'sts', 0)");
  writer = new GroupCommit(database.sql);
  const mxCert = await certificate(DOMAINS.map((d) => `mx.${d}`));
  const otherCert = await certificate(["somewhere-else.test"]);
  // Not among the trusted CAs: an MX certificate nobody vouches for.
  const untrustedCert = await certificate(["mx.untrusted.test"]);
  const day = 86_400_000;
  const expiredCert = await certificate(["mx.expired.test"], { notBeforeDate: new Date(Date.now() - 30 * day), notAfterDate: new Date(Date.now() - day) });
  // webpki.test's policy host presents a certificate without its name (RFC 8460 sts-webpki-invalid).
  const policyCert = await certificate([...DOMAINS.filter((d) => d !== "webpki.test"), "redirect.test", "big.test"].map((d) => `mta-sts.${d}`));
  ca = [mxCert.cert, otherCert.cert, policyCert.cert, expiredCert.cert];
  mxGood = await startUpstream({ extra: mxCert });
  mxWrongCert = await startUpstream({ extra: otherCert });
  mxPlain = await startUpstream({ hideStartTls: true });
  mxUntrusted = await startUpstream({ extra: untrustedCert });
  mxExpired = await startUpstream({ extra: expiredCert });
  https = createServer(policyCert, (req, res) => {
    const p = policies[String(req.headers.host)];
    if (typeof p === "string") res.writeHead(200, { "content-type": "text/plain" }).end(p);
    else if (p === 301) res.writeHead(301, { location: "https://mta-sts.good.test/.well-known/mta-sts.txt" }).end();
    else if (p === 413) res.writeHead(200, { "content-type": "text/plain" }).end("x".repeat(70 * 1024));
    else res.writeHead(p ?? 404).end();
  });
  await new Promise<void>((r) => https.listen(0, "127.0.0.1", () => r()));
  httpsPort = (https.address() as { port: number }).port;
  for (const d of DOMAINS) {
    zone.mx[d] = [{ exchange: `mx.${d}`, priority: 10 }];
    zone.a[`mx.${d}`] = ["127.0.0.1"];
    zone.a[`mta-sts.${d}`] = ["127.0.0.1"];
    zone.txt[`_mta-sts.${d}`] = [["v=STSv1; id=1"]];
    policies[`mta-sts.${d}`] = `version: STSv1\r\nmode: enforce\r\nmx: mx.${d}\r\nmax_age: 86400\r\n`;
  }
  zone.mx["nomatch.test"] = [{ exchange: "mx.elsewhere.test", priority: 10 }];
  zone.a["mx.elsewhere.test"] = ["127.0.0.1"];
  policies["mta-sts.testing.test"] = "version: STSv1\nmode: testing\nmx: mx.other.test\nmax_age: 86400\n";
  policies["mta-sts.testcert.test"] = "version: STSv1\nmode: testing\nmx: mx.testcert.test\nmax_age: 86400\n";
  policies["mta-sts.badpolicy.test"] = "version: STSv1\nmode: sometimes\nmx: mx.badpolicy.test\nmax_age: 86400\n";
  dns = await startDns(zone);
});

// Tests change records and policies (a new policy id, a host that fails): each test's
// changes are undone after it, so every test starts from the zone beforeAll made.
let saved: { zone: typeof zone; policies: typeof policies } | undefined;
beforeEach(() => {
  saved = structuredClone({ zone, policies });
});
afterEach(() => {
  if (!saved) return;
  for (const k of ["txt", "mx", "a"] as const) {
    for (const name of Object.keys(zone[k])) delete zone[k][name];
    Object.assign(zone[k], saved.zone[k]);
  }
  for (const host of Object.keys(policies)) delete policies[host];
  Object.assign(policies, saved.policies);
});

afterAll(async () => {
  await dns?.close();
  await new Promise<void>((r) => (https ? https.close(() => r()) : r()));
  for (const u of [mxGood, mxWrongCert, mxPlain, mxUntrusted, mxExpired]) await u?.close();
  database?.close();
  if (dir) removeDir(dir);
});

function worker(mx: Upstream, sts: boolean): DeliveryWorker {
  const resolve = createDnsResolve([dns.address]);
  return new DeliveryWorker({
    db: database.db,
    sql: database.sql,
    writer,
    connect: createNodeConnect({ ca }),
    resolver: createResolver([dns.address]),
    log: (event, fields) => logged.push({ event, fields }),
    mtaSts: sts ? createMtaSts({ db: database.db, resolve, fetchPolicy: createPolicyFetch({ resolve, ca, port: httpsPort }) }) : undefined,
    config: {
      hostname: "relay.test",
      retryBaseMs: 60_000,
      lifetimeMs: 86_400_000,
      allowPrivateMx: true,
      mxPort: mx.port,
      defaultUpstream: "mx",
      concurrency: 4,
      perDestination: 2,
      leaseMs: 60_000,
      pollMs: 1000,
      reuseConnections: false,
    },
  });
}

/** Queues one message to rcpt@DOMAIN, runs one delivery pass, returns the recipient row. */
async function deliver(domain: string, mx: Upstream, sts = true) {
  const id = newId();
  await enqueueMessage(writer, { id, accountId: "a", source: "smtp", mailFrom: "app@example.com", raw: new TextEncoder().encode(`From: app@example.com\r\nSubject: ${domain}\r\n\r\nhi\r\n`), recipients: [{ address: `rcpt@${domain}`, domain }], smtputf8: false }, Date.now(), null);
  await worker(mx, sts).drainOnce();
  const row = (await database.sql.execute({ sql: "SELECT state, last_reply FROM recipients WHERE message_id = ?", args: [id] })).rows[0]!;
  return { state: String(row.state), reply: String(row.last_reply) };
}

const tlsOf = (domain: string) => storedTls(database, domain);
const tlsCount = (outcome: string, resultType: string) => counted(database, outcome, resultType);
const failed = (result_type: string, policy: "enforce" | "testing" | null = "enforce"): TlsRecord => ({ outcome: "none", protocol: null, cipher: null, result_type: result_type as TlsRecord["result_type"], policy });

const arrived = (mx: Upstream, domain: string) => mx.received.filter((m) => m.rcptTo.includes(`rcpt@${domain}`));

describe("enforce", () => {
  test("an MX in the policy with a certificate for its name: delivered over verified TLS, protocol and cipher recorded", async () => {
    const before = await tlsCount("verified", "");
    const r = await deliver("good.test", mxGood);
    expect(r.state).toBe("delivered");
    expect(arrived(mxGood, "good.test").map((m) => m.secure)).toEqual([true]);
    const { recipient, event } = await tlsOf("good.test");
    expect(recipient).toEqual({ outcome: "verified", protocol: "TLSv1.3", cipher: expect.stringMatching(/^TLS_/), result_type: null, policy: "enforce" });
    expect(event).toEqual(recipient);
    expect(await tlsCount("verified", "")).toBe(before + 1);
  });

  test("a certificate for another name: deferred 4.7.5 as a TLS failure (certificate-host-mismatch), nothing sent", async () => {
    const before = await tlsCount("none", "certificate-host-mismatch");
    const r = await deliver("wrongcert.test", mxWrongCert);
    expect(r.state).toBe("deferred");
    expect(r.reply).toMatch(/^451 4\.7\.5 TLS with mx\.wrongcert\.test failed \(certificate-host-mismatch\): .*mx\.wrongcert\.test\. is not in the cert's altnames/);
    expect(arrived(mxWrongCert, "wrongcert.test")).toHaveLength(0);
    const { recipient, event } = await tlsOf("wrongcert.test");
    expect(recipient).toEqual(failed("certificate-host-mismatch"));
    expect(event).toEqual(recipient);
    expect(await tlsCount("none", "certificate-host-mismatch")).toBe(before + 1);
  });

  test("a certificate no trusted CA signed, and an expired one: deferred 4.7.5 with their RFC 8460 types", async () => {
    const untrusted = await deliver("untrusted.test", mxUntrusted);
    expect(untrusted.state).toBe("deferred");
    expect(untrusted.reply).toStartWith("451 4.7.5 TLS with mx.untrusted.test failed (certificate-not-trusted): ");
    expect((await tlsOf("untrusted.test")).recipient).toEqual(failed("certificate-not-trusted"));
    const expired = await deliver("expired.test", mxExpired);
    expect(expired.state).toBe("deferred");
    expect(expired.reply).toStartWith("451 4.7.5 TLS with mx.expired.test failed (certificate-expired): ");
    expect((await tlsOf("expired.test")).recipient).toEqual(failed("certificate-expired"));
    expect(arrived(mxUntrusted, "untrusted.test")).toHaveLength(0);
    expect(arrived(mxExpired, "expired.test")).toHaveLength(0);
  });

  test("an MX without STARTTLS: deferred 4.7.5, never sent in plaintext", async () => {
    const before = await tlsCount("none", "starttls-not-supported");
    const r = await deliver("plain.test", mxPlain);
    expect(r.state).toBe("deferred");
    expect(r.reply).toContain("451 4.7.5 TLS required but the server does not offer STARTTLS");
    expect(arrived(mxPlain, "plain.test")).toHaveLength(0);
    expect((await tlsOf("plain.test")).recipient).toEqual(failed("starttls-not-supported"));
    expect(await tlsCount("none", "starttls-not-supported")).toBe(before + 1);
  });

  test("MX hosts the policy does not list: deferred 4.7.5 with the reason", async () => {
    const r = await deliver("nomatch.test", mxGood);
    expect(r).toEqual({ state: "deferred", reply: "451 4.7.5 MTA-STS policy of nomatch.test (enforce) allows none of its MX hosts (mx.elsewhere.test)" });
    expect(arrived(mxGood, "nomatch.test")).toHaveLength(0);
    expect((await tlsOf("nomatch.test")).recipient).toEqual(failed("validation-failure"));
  });
});

describe("testing, cache, off", () => {
  test("testing: delivered to an MX outside the policy, and the mismatch recorded", async () => {
    const r = await deliver("testing.test", mxPlain);
    expect(r.state).toBe("delivered");
    expect(logged.find((l) => l.event === "mta_sts_testing" && l.fields.domain === "testing.test")?.fields).toEqual({ domain: "testing.test", note: "MTA-STS testing: mx.testing.test not in the policy of testing.test" });
    expect((await tlsOf("testing.test")).recipient).toEqual(failed("starttls-not-supported", "testing"));
    // The same host outside the policy, with good TLS: still what enforce would refuse.
    expect((await deliver("testing.test", mxGood)).state).toBe("delivered");
    expect((await tlsOf("testing.test")).recipient).toMatchObject({ outcome: "verified", result_type: "validation-failure", policy: "testing" });
  });

  test("testing: a certificate for another name is tried, the mail delivered over TLS, and the failure recorded", async () => {
    const before = await tlsCount("opportunistic", "certificate-host-mismatch");
    const r = await deliver("testcert.test", mxWrongCert);
    expect(r.state).toBe("delivered");
    expect(arrived(mxWrongCert, "testcert.test").map((m) => m.secure)).toEqual([true]);
    const { recipient, event } = await tlsOf("testcert.test");
    expect(recipient).toEqual({ outcome: "opportunistic", protocol: "TLSv1.3", cipher: expect.stringMatching(/^TLS_/), result_type: "certificate-host-mismatch", policy: "testing" });
    expect(event).toEqual(recipient);
    expect(await tlsCount("opportunistic", "certificate-host-mismatch")).toBe(before + 1);
  });

  test("a policy that cannot be had (RFC 8460 §4.3.2.2): delivered as without one, the failure recorded", async () => {
    expect((await deliver("webpki.test", mxGood)).state).toBe("delivered");
    expect((await tlsOf("webpki.test")).recipient).toMatchObject({ outcome: "verified", result_type: "sts-webpki-invalid", policy: null });
    expect((await deliver("badpolicy.test", mxGood)).state).toBe("delivered");
    expect((await tlsOf("badpolicy.test")).recipient).toMatchObject({ outcome: "verified", result_type: "sts-policy-invalid", policy: null });
  });

  test("a cached policy still applies when the policy host fails and the record's id changed", async () => {
    expect((await deliver("cached.test", mxGood)).state).toBe("delivered");
    const row = (await database.sql.execute("SELECT policy_id, mode, mx FROM mta_sts_policies WHERE domain = 'cached.test'")).rows[0]!;
    expect([row.policy_id, row.mode, row.mx]).toEqual(["1", "enforce", '["mx.cached.test"]']);
    zone.txt["_mta-sts.cached.test"] = [["v=STSv1; id=2"]];
    policies["mta-sts.cached.test"] = 500;
    // A fresh worker (as after a restart): the policy comes from libSQL, so plaintext is refused.
    const r = await deliver("cached.test", mxPlain);
    expect(r.state).toBe("deferred");
    expect(r.reply).toContain("4.7.5");
    expect(arrived(mxPlain, "cached.test")).toHaveLength(0);
    // A new id with a policy that can be fetched replaces the cached one.
    zone.txt["_mta-sts.cached.test"] = [["v=STSv1; id=3"]];
    policies["mta-sts.cached.test"] = "version: STSv1\nmode: testing\nmx: mx.cached.test\nmax_age: 600\n";
    expect((await deliver("cached.test", mxPlain)).state).toBe("delivered");
    const fresh = (await database.sql.execute("SELECT policy_id, mode FROM mta_sts_policies WHERE domain = 'cached.test'")).rows[0]!;
    expect([fresh.policy_id, fresh.mode]).toEqual(["3", "testing"]);
  });

  test("SMARTHOST_MTA_STS=off: the policy is not looked at", async () => {
    const r = await deliver("off.test", mxPlain, false);
    expect(r.state).toBe("delivered");
    expect(arrived(mxPlain, "off.test")).toHaveLength(1);
    // Plaintext, and no failure: nothing demanded TLS of this host.
    expect((await tlsOf("off.test")).recipient).toEqual({ outcome: "none", protocol: null, cipher: null, result_type: null, policy: null });
  });
});

describe("where the TLS outcome shows", () => {
  test("GET /v1/messages/:id and `queue show` (text and --json): each attempt's TLS outcome", async () => {
    // First to an MX whose certificate names another host; then the domain moves its MX.
    expect((await deliver("retried.test", mxWrongCert)).state).toBe("deferred");
    zone.mx["retried.test"] = [{ exchange: "mx.good.test", priority: 10 }];
    policies["mta-sts.retried.test"] = "version: STSv1\nmode: enforce\nmx: mx.good.test\nmax_age: 86400\n";
    zone.txt["_mta-sts.retried.test"] = [["v=STSv1; id=2"]];
    const { id } = await tlsOf("retried.test");
    // The retry, now to an MX with a good certificate.
    await database.sql.execute({ sql: "UPDATE recipients SET next_attempt_at = 0 WHERE message_id = ?", args: [id] });
    await worker(mxGood, true).drainOnce();
    const first = failed("certificate-host-mismatch");
    const second: TlsRecord = { outcome: "verified", protocol: "TLSv1.3", cipher: expect.stringMatching(/^TLS_/), result_type: null, policy: "enforce" };

    const status = await messageView(database.db, "a", id);
    expect(status.recipients.map((r) => [r.state, r.tls])).toEqual([["delivered", second]]);
    expect(status.events.map((e) => [e.type, e.tls])).toEqual([["accepted", undefined], ["deferred", first], ["delivered", second]]);

    const env = { SMARTHOST_DB_URL: `file:${join(dir, "sts.db")}` };
    const json = await cli(dir, ["queue", "show", id, "--json"], env);
    expect(json.code).toBe(0);
    const trace = JSON.parse(json.stdout) as { recipients: { tls: unknown }[]; events: { type: string; tls: unknown }[] };
    expect(trace.recipients.map((r) => r.tls)).toEqual([second]);
    expect(trace.events.map((e) => [e.type, e.tls])).toEqual([["accepted", null], ["deferred", first], ["delivered", second]]);
    const text = await cli(dir, ["queue", "show", id], env);
    expect(text.stdout).toContain("TLS none failure=certificate-host-mismatch mta-sts=enforce");
    expect(text.stdout).toMatch(/TLS verified TLSv1\.3 TLS_\S+ mta-sts=enforce/);
  });
});

describe("the policy fetch (RFC 8461 §3.3)", () => {
  test("a redirect is not followed, more than 64 KB is refused, the certificate must name mta-sts.DOMAIN", async () => {
    const resolve = createDnsResolve([dns.address]);
    const fetchPolicy = createPolicyFetch({ resolve, ca, port: httpsPort });
    const url = (d: string) => `https://mta-sts.${d}/.well-known/mta-sts.txt`;
    expect(await fetchPolicy(url("good.test"))).toContain("mode: enforce");
    policies["mta-sts.redirect.test"] = 301;
    zone.a["mta-sts.redirect.test"] = ["127.0.0.1"];
    await expect(fetchPolicy(url("redirect.test"))).rejects.toThrow("HTTP 301");
    policies["mta-sts.big.test"] = 413;
    zone.a["mta-sts.big.test"] = ["127.0.0.1"];
    await expect(fetchPolicy(url("big.test"))).rejects.toThrow("larger than 64 KB");
    zone.a["mta-sts.unnamed.test"] = ["127.0.0.1"];
    await expect(fetchPolicy(url("unnamed.test"))).rejects.toThrow(/altnames/);
  });
});
