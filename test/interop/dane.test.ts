/**
 * DANE for SMTP (RFC 7672) against a real validating resolver: Debian's unbound on
 * loopback, serving a zone signed by ldns-signzone (its key the trust anchor) and an
 * unsigned one. The MX is a local smtp-server with a test certificate; the TLSA records
 * carry the SHA-256 of its public key (3 1 1), of another key, or a signature broken after
 * signing. The delivery worker runs with SMARTHOST_DANE's wiring on a real libSQL file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, X509Certificate } from "node:crypto";
import { join } from "node:path";
import type { Database } from "../../src/db/client.ts";
import { GroupCommit } from "../../src/db/group-commit.ts";
import { createDaneLookup } from "../../src/delivery/dane-lookup.ts";
import { DeliveryWorker } from "../../src/delivery/worker.ts";
import { enqueueMessage } from "../../src/queue/enqueue.ts";
import { openDatabase } from "../../src/runtime/bun-db.ts";
import { createDnsExchange } from "../../src/runtime/node-dns-exchange.ts";
import { createResolver } from "../../src/runtime/node-dns.ts";
import { createNodeConnect } from "../../src/runtime/node-socket.ts";
import { nodeCertificateTools } from "../../src/runtime/node-x509.ts";
import { newId } from "../../src/smtp/ids.ts";
import { cli, removeDir, tempDir } from "../support/relay.ts";
import { certificate, storedTls } from "../support/tls-outcomes.ts";
import { startUnbound, type Unbound } from "../support/unbound.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";

let dir = "";
let database: Database;
let writer: GroupCommit;
let unbound: Unbound;
let mx: Upstream;
const logged: { event: string; fields: Record<string, unknown> }[] = [];

const spkiSha256 = (pem: string) => createHash("sha256").update(new X509Certificate(pem).publicKey.export({ type: "spki", format: "der" })).digest("hex");

beforeAll(async () => {
  dir = tempDir();
  database = await openDatabase(`file:${join(dir, "dane.db")}`);
  await database.client.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a', 'dane', 0)");
  writer = new GroupCommit(database.sql);
  // One MX for every domain; its certificate names none of them that matter to DANE-EE.
  const mxCert = await certificate(["mx-good.dane.test", "mx-bad.dane.test", "mx-bogus.dane.test", "mx.plain.test"]);
  const otherCert = await certificate(["mx-bad.dane.test"]);
  mx = await startUpstream({ extra: mxCert });
  const right = spkiSha256(mxCert.cert);
  const wrong = spkiSha256(otherCert.cert);
  const signed = [
    "good IN MX 10 mx-good",
    "mx-good IN A 127.0.0.1",
    `_25._tcp.mx-good IN TLSA 3 1 1 ${right}`,
    "bad IN MX 10 mx-bad",
    "mx-bad IN A 127.0.0.1",
    `_25._tcp.mx-bad IN TLSA 3 1 1 ${wrong}`,
    "bogus IN MX 10 mx-bogus",
    "mx-bogus IN A 127.0.0.1",
    // Signed with another key's digest, then given the MX's: it would match, but its signature no longer holds.
    `_25._tcp.mx-bogus IN TLSA 3 1 1 ${wrong}`,
  ];
  const unsigned = ["@ IN MX 10 mx", "mx IN A 127.0.0.1", `_25._tcp.mx IN TLSA 3 1 1 ${wrong}`];
  unbound = await startUnbound(dir, [
    { origin: "dane.test", records: signed, signed: true, afterSigning: (t) => t.replace(new RegExp(`(_25\\._tcp\\.mx-bogus\\.dane\\.test\\.\\s+\\d+\\s+IN\\s+TLSA\\s+3 1 1 )${wrong}`, "i"), `$1${right}`) },
    { origin: "plain.test", records: unsigned, signed: false },
  ]);
});

afterAll(async () => {
  await unbound?.stop();
  await mx?.close();
  database?.close();
  if (dir) removeDir(dir);
});

function worker(): DeliveryWorker {
  return new DeliveryWorker({
    db: database.db,
    sql: database.sql,
    writer,
    connect: createNodeConnect(),
    resolver: createResolver([unbound.address]),
    log: (event, fields) => logged.push({ event, fields }),
    dane: { lookup: createDaneLookup(createDnsExchange([unbound.address])), certificates: nodeCertificateTools },
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
async function deliver(domain: string) {
  const id = newId();
  const raw = new TextEncoder().encode(`From: app@example.com\r\nSubject: ${domain}\r\n\r\nhi\r\n`);
  await enqueueMessage(writer, { id, accountId: "a", source: "smtp", mailFrom: "app@example.com", raw, recipients: [{ address: `rcpt@${domain}`, domain }], smtputf8: false }, Date.now(), null);
  await worker().drainOnce();
  const row = (await database.sql.execute({ sql: "SELECT state, last_reply FROM recipients WHERE message_id = ?", args: [id] })).rows[0]!;
  return { state: String(row.state), reply: String(row.last_reply) };
}

const arrived = (domain: string) => mx.received.filter((m) => m.rcptTo.includes(`rcpt@${domain}`));

describe("DANE with unbound validating a signed zone", () => {
  test("TLSA 3 1 1 matches the MX's key: delivered over TLS, the outcome verified under policy tlsa", async () => {
    const r = await deliver("good.dane.test");
    expect(r.state).toBe("delivered");
    expect(arrived("good.dane.test").map((m) => m.secure)).toEqual([true]);
    const { recipient, event } = await storedTls(database, "good.dane.test");
    expect(recipient).toEqual({ outcome: "verified", protocol: "TLSv1.3", cipher: expect.stringMatching(/^TLS_/), result_type: null, policy: "tlsa" });
    expect(event).toEqual(recipient);
  }, 30_000);

  test("TLSA for another key: deferred 4.7.5 tlsa-invalid, nothing sent", async () => {
    const r = await deliver("bad.dane.test");
    expect(r.state).toBe("deferred");
    expect(r.reply).toStartWith("451 4.7.5 DANE: TLS with mx-bad.dane.test failed (tlsa-invalid): ");
    expect(arrived("bad.dane.test")).toHaveLength(0);
    expect((await storedTls(database, "bad.dane.test")).recipient).toMatchObject({ outcome: "opportunistic", result_type: "tlsa-invalid", policy: "tlsa" });
  }, 30_000);

  test("a TLSA record whose signature does not hold: deferred 4.7.5 dnssec-invalid, no connection made", async () => {
    const before = mx.received.length;
    const r = await deliver("bogus.dane.test");
    expect(r.state).toBe("deferred");
    expect(r.reply).toStartWith("451 4.7.5 DANE for bogus.dane.test (dnssec-invalid): ");
    expect(mx.received.length).toBe(before);
    expect((await storedTls(database, "bogus.dane.test")).recipient).toEqual({ outcome: "none", protocol: null, cipher: null, result_type: "dnssec-invalid", policy: "tlsa" });
    expect(unbound.log()).toMatch(/validation failure.*mx-bogus\.dane\.test/i);
  }, 30_000);

  test("an unsigned zone: its TLSA record is not trusted, delivery is opportunistic", async () => {
    const r = await deliver("plain.test");
    expect(r.state).toBe("delivered");
    expect(arrived("plain.test").map((m) => m.secure)).toEqual([true]);
    expect((await storedTls(database, "plain.test")).recipient).toMatchObject({ outcome: "opportunistic", policy: null, result_type: null });
  }, 30_000);
});

describe("domain check shows DANE as delivery sees it", () => {
  const check = async (domain: string) => {
    const env = { SMARTHOST_DB_URL: `file:${join(dir, "dane.db")}`, SMARTHOST_DANE: "on", SMARTHOST_DNS_SERVERS: unbound.address };
    const r = await cli(dir, ["domain", "check", domain, "--json"], env);
    const report = JSON.parse(r.stdout) as { checks: { check: string; ok: boolean; found: string | null; detail: string }[] };
    return report.checks.find((c) => c.check === "dane")!;
  };

  test("signed MX with TLSA: the records shown; unsigned: DANE does not apply; bogus: a failure", async () => {
    const good = await check("good.dane.test");
    expect(good.ok).toBe(true);
    expect(good.found).toMatch(/^mx-good\.dane\.test: TLSA 3 1 1 [0-9a-f]{16}…$/);
    expect(good.detail).toBe("1 of 1 MX host(s) authenticated by TLSA");
    const plain = await check("plain.test");
    expect(plain).toMatchObject({ ok: true, found: null });
    expect(plain.detail).toContain("not signed");
    const bogus = await check("bogus.dane.test");
    expect(bogus.ok).toBe(false);
    expect(bogus.found).toContain("mx-bogus.dane.test: lookup failed");
  }, 60_000);

  test("with SMARTHOST_DANE off there is no DANE row: delivery does not look at TLSA", async () => {
    const r = await cli(dir, ["domain", "check", "good.dane.test", "--json"], { SMARTHOST_DB_URL: `file:${join(dir, "dane.db")}`, SMARTHOST_DNS_SERVERS: unbound.address });
    const checks = (JSON.parse(r.stdout) as { checks: { check: string }[] }).checks.map((c) => c.check);
    expect(checks).toContain("spf");
    expect(checks).not.toContain("dane");
  }, 60_000);
});
