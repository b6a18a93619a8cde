/**
 * TLS reports (RFC 8460) from a recorded day, with real peers on loopback: a DNS server
 * (dns2) publishing the domains' `_smtp._tls` records and the report mailbox's MX, an
 * smtp-server receiving `mailto:` reports (sent through our own queue by the delivery
 * worker), and an HTTPS receiver (a test certificate the sender trusts) for `https:` ones.
 * The day is recorded as the delivery worker records attempts: outcome events with their
 * TLS records, several recipients of one session sharing one time.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { simpleParser } from "mailparser";
import type { Database } from "../../src/db/client.ts";
import type { TlsRecord } from "../../src/core/tls-record.ts";
import { GroupCommit } from "../../src/db/group-commit.ts";
import { DeliveryWorker } from "../../src/delivery/worker.ts";
import { addDkimKey } from "../../src/admin/dkim.ts";
import { createDkimSigner } from "../../src/dkim/signer.ts";
import { openDatabase } from "../../src/runtime/bun-db.ts";
import { createDnsResolve } from "../../src/runtime/node-dns-records.ts";
import { createNodeConnect } from "../../src/runtime/node-socket.ts";
import { createResolver } from "../../src/runtime/node-dns.ts";
import { pinnedPost } from "../../src/runtime/node-webhook-post.ts";
import { createSecretBox, generateSecretKey } from "../../src/secrets/cipher.ts";
import { newId } from "../../src/smtp/ids.ts";
import { TlsReporter } from "../../src/tlsrpt/reporter.ts";
import { dayBounds, previousDay, type TlsReport } from "../../src/tlsrpt/report.ts";
import type { ReportSettings } from "../../src/tlsrpt/settings.ts";
import { startDns, type DnsServer, type Zone } from "../support/dns-server.ts";
import { cli, removeDir, tempDir } from "../support/relay.ts";
import { loadConfig } from "../../src/config.ts";
import { createGatewayStack } from "../../src/stack.ts";
import { startUpstream, testCertificate, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";

const SETTINGS: ReportSettings = { organization: "Relay Test Org", contact: "postmaster@relay.test", submitter: "relay.test", sendingIps: ["192.0.2.25"] };
const HOUR = 3_600_000;

let dir = "";
let database: Database;
let writer: GroupCommit;
let dns: DnsServer;
let mailbox: Upstream;
let https: Server;
let httpsBase = "";
let ca = "";
const posts: { path: string; headers: Record<string, unknown>; body: Buffer }[] = [];
/** Status to answer by path, in turn (then 200). */
const answers: Record<string, number[]> = {};
const zone: Required<Pick<Zone, "txt" | "mx" | "a">> = { txt: {}, mx: {}, a: {} };
const logged: { event: string; fields: Record<string, unknown> }[] = [];
let signer: ReturnType<typeof createDkimSigner>;

beforeAll(async () => {
  dir = tempDir();
  database = await openDatabase(`file:${join(dir, "smarthost.db")}`);
  await database.client.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a', 'sender', 0)");
  writer = new GroupCommit(database.sql);
  const secrets = await createSecretBox(generateSecretKey());
  await addDkimKey({ db: database.db, secrets }, "relay.test");
  signer = createDkimSigner({ db: database.db, secrets });
  const cert = await testCertificate();
  ca = cert.cert;
  mailbox = await startUpstream();
  https = createServer(cert, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      posts.push({ path: String(req.url), headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(answers[String(req.url)]?.shift() ?? 200).end("thanks");
    });
  });
  await new Promise<void>((r) => https.listen(0, "127.0.0.1", () => r()));
  httpsBase = `https://127.0.0.1:${(https.address() as { port: number }).port}`;
  zone.mx["reports.test"] = [{ exchange: "mx.reports.test", priority: 10 }];
  zone.a["mx.reports.test"] = ["127.0.0.1"];
  dns = await startDns(zone);
});

afterAll(async () => {
  await dns?.close();
  await mailbox?.close();
  await new Promise<void>((r) => (https ? https.close(() => r()) : r()));
  database?.close();
  if (dir) removeDir(dir);
});

const tls = (over: Partial<TlsRecord>): TlsRecord => ({ outcome: "verified", protocol: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", result_type: null, policy: null, ...over });

/** One session as the worker records it: an outcome event per recipient, one time, one host, one TLS record. */
async function session(domain: string, at: number, via: string, record: TlsRecord, recipients = 1, type = "delivered"): Promise<void> {
  const id = newId();
  await database.client.execute({
    sql: "INSERT INTO messages (id, account_id, source, mail_from, raw, size, created_at) VALUES (?, 'a', 'smtp', 'alice@example.com', ?, 1, ?)",
    args: [id, new Uint8Array([120]), at],
  });
  for (let i = 0; i < recipients; i++) {
    await database.client.execute({
      sql: "INSERT INTO events (message_id, recipient, type, detail, tls, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      args: [id, `user${i}@${domain.toUpperCase()}`, type, `250 2.0.0 OK (via ${via})`, JSON.stringify(record), at],
    });
  }
}

function reporter(now: () => number, db = database, w = writer): TlsReporter {
  return new TlsReporter({
    sql: db.sql,
    writer: w,
    resolve: createDnsResolve([dns.address]),
    network: { resolveHost: async () => ["127.0.0.1"], post: pinnedPost({ ca }) },
    signer,
    settings: SETTINGS,
    log: (event, fields) => logged.push({ event, fields }),
    allowPrivate: true,
    now,
  });
}

function worker(): DeliveryWorker {
  return new DeliveryWorker({
    db: database.db,
    sql: database.sql,
    writer,
    connect: createNodeConnect({ ca: [mailbox.cert] }),
    resolver: createResolver([dns.address]),
    log: (event, fields) => logged.push({ event, fields }),
    config: { hostname: "relay.test", retryBaseMs: 60_000, lifetimeMs: 86_400_000, allowPrivateMx: true, mxPort: mailbox.port, defaultUpstream: "mx", concurrency: 2, perDestination: 2, leaseMs: 60_000, pollMs: 100, reuseConnections: false },
  });
}

const count = async (sql: string, ...args: (string | number)[]) => Number((await database.client.execute({ sql, args })).rows[0]![0]);

test("a recorded day: each domain's report as RFC 8460 JSON, mailed through our queue and POSTed over HTTPS, once", async () => {
  const day = previousDay(Date.now());
  const { start } = dayBounds(day);
  zone.txt["_smtp._tls.mail.test"] = [["v=TLSRPTv1; rua=mailto:tls-reports@reports.test"]];
  zone.txt["_smtp._tls.web.test"] = [[`v=TLSRPTv1;rua=${httpsBase}/web`]];
  // mail.test: MTA-STS enforce; two good sessions (one with three recipients), one certificate for another name.
  await database.client.execute({
    sql: "INSERT INTO mta_sts_policies (domain, policy_id, mode, mx, fetched_at, expires_at) VALUES ('mail.test', '1', 'enforce', ?, ?, ?)",
    args: [JSON.stringify(["mx.mail.test", "*.backup.mail.test"]), start, start + 86_400_000],
  });
  await session("mail.test", start + HOUR, "mx mx.mail.test [127.0.0.1]", tls({ policy: "enforce" }), 3);
  await session("mail.test", start + 2 * HOUR, "mx mx.mail.test [127.0.0.1]", tls({ policy: "enforce" }));
  await session("mail.test", start + 3 * HOUR, "mx b1.backup.mail.test [127.0.0.2]", tls({ policy: "enforce", outcome: "opportunistic", result_type: "certificate-host-mismatch" }), 2, "deferred");
  // Not the day's sessions with mail.test's hosts: a provider route, the day before, today.
  await session("mail.test", start + HOUR, "smtp relay.example [203.0.113.5]", tls({}));
  await session("mail.test", start - HOUR, "mx mx.mail.test [127.0.0.1]", tls({ policy: "enforce" }));
  await session("mail.test", start + 25 * HOUR, "mx mx.mail.test [127.0.0.1]", tls({ policy: "enforce" }));
  // web.test: no policy; one plaintext session, one encrypted.
  await session("web.test", start + HOUR, "mx mx.web.test [127.0.0.1]", tls({ outcome: "none", protocol: null, cipher: null }));
  await session("web.test", start + 5 * HOUR, "mx mx.web.test [127.0.0.1]", tls({ outcome: "opportunistic" }));
  // quiet.test publishes nothing: no report.
  await session("quiet.test", start + HOUR, "mx mx.quiet.test [127.0.0.1]", tls({}));

  const r = reporter(Date.now);
  expect(await r.reportDay()).toBe(2);
  expect(await r.reportDay()).toBe(0);
  expect((await database.client.execute({ sql: "SELECT state FROM tlsrpt_reports WHERE domain = 'quiet.test' AND day = ?", args: [day] })).rows[0]!.state).toBe("no-record");

  const stored = JSON.parse(String((await database.client.execute({ sql: "SELECT report FROM tlsrpt_reports WHERE domain = 'mail.test' AND day = ?", args: [day] })).rows[0]!.report)) as TlsReport;
  const reportId = `${day.replace(/-/g, "")}.mail.test@relay.test`;
  expect(stored).toEqual({
    "organization-name": "Relay Test Org",
    "date-range": { "start-datetime": `${day}T00:00:00Z`, "end-datetime": `${day}T23:59:59Z` },
    "contact-info": "postmaster@relay.test",
    "report-id": reportId,
    policies: [
      {
        policy: {
          "policy-type": "sts",
          "policy-string": ["version: STSv1", "mode: enforce", "mx: mx.mail.test", "mx: *.backup.mail.test", "max_age: 86400"],
          "policy-domain": "mail.test",
          "mx-host": ["mx.mail.test", "*.backup.mail.test"],
        },
        summary: { "total-successful-session-count": 2, "total-failure-session-count": 1 },
        "failure-details": [{ "result-type": "certificate-host-mismatch", "sending-mta-ip": "192.0.2.25", "receiving-mx-hostname": "b1.backup.mail.test", "receiving-ip": "127.0.0.2", "failed-session-count": 1 }],
      },
    ],
  });

  // https: one POST of the gzip'd JSON.
  expect(await r.sendDue()).toBe(1);
  expect(posts.map((p) => p.path)).toEqual(["/web"]);
  expect(posts[0]!.headers["content-type"]).toBe("application/tlsrpt+gzip");
  const web = JSON.parse(gunzipSync(posts[0]!.body).toString("utf8")) as TlsReport;
  expect(web.policies).toEqual([
    {
      policy: { "policy-type": "no-policy-found", "policy-domain": "web.test" },
      summary: { "total-successful-session-count": 1, "total-failure-session-count": 1 },
      "failure-details": [{ "result-type": "starttls-not-supported", "sending-mta-ip": "192.0.2.25", "receiving-mx-hostname": "mx.web.test", "receiving-ip": "127.0.0.1", "failed-session-count": 1 }],
    },
  ]);
  expect(await r.sendDue()).toBe(0);

  // mailto: delivered by the worker from our queue, as RFC 8460 §5.3 mail.
  const w = worker();
  w.start();
  try {
    const got = await waitFor("the report mail", () => mailbox.received.find((m) => m.rcptTo.includes("tls-reports@reports.test")));
    expect(got.mailFrom).toBe("");
    const mail = await simpleParser(got.raw);
    expect(mail.subject).toBe(`Report Domain: mail.test Submitter: relay.test Report-ID: <${reportId}>`);
    expect(mail.headers.get("tls-report-domain")).toBe("mail.test");
    expect(mail.headers.get("tls-report-submitter")).toBe("relay.test");
    expect(mail.headers.get("content-type")).toMatchObject({ value: "multipart/report", params: { "report-type": "tlsrpt" } });
    // Signed with our key for the From: domain, the report's own fields covered (RFC 8460 §5.3).
    const dkim = (/^DKIM-Signature:(.*(?:\r\n[ \t].*)*)/m.exec(got.raw.toString("latin1"))?.[1] ?? "").replace(/\s/g, "").toLowerCase();
    expect(dkim).toContain("d=relay.test;");
    expect(dkim).toMatch(/h=[^;]*tls-report-domain:tls-report-submitter/);
    const [attachment, ...more] = mail.attachments;
    expect(more).toEqual([]);
    expect(attachment!.contentType).toBe("application/tlsrpt+gzip");
    expect(attachment!.filename).toBe(`relay.test!mail.test!${start / 1000}!${start / 1000 + 86_399}!${reportId.replace("@", "_")}.json.gz`);
    expect(JSON.parse(gunzipSync(attachment!.content).toString("utf8"))).toEqual(stored);
    await waitFor("the mail recorded as delivered", async () => (await count("SELECT COUNT(*) FROM recipients WHERE address = 'tls-reports@reports.test' AND state = 'delivered'")) === 1);
  } finally {
    await w.stop();
  }

  // The CLI prints what was sent, and what was sent where with the answer.
  const shown = await cli(dir, ["tlsrpt", "report", "MAIL.test", "--date", day, "--json"]);
  expect(shown.code, shown.stderr).toBe(0);
  expect(JSON.parse(shown.stdout)).toEqual(stored);
  const text = await cli(dir, ["tlsrpt", "report", "mail.test", "--date", day]);
  expect(text.stdout).toContain(`report ${reportId} for mail.test, ${day} (UTC): sent`);
  expect(text.stdout).toContain("sts: 2 successful, 1 failed session(s)");
  const listed = await cli(dir, ["tlsrpt", "list", "--json"]);
  expect(listed.code, listed.stderr).toBe(0);
  expect(JSON.parse(listed.stdout)).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ domain: "mail.test", day, uri: "mailto:tls-reports@reports.test", state: "mail delivered", report_id: reportId }),
      expect.objectContaining({ domain: "web.test", day, uri: `${httpsBase}/web`, state: "sent", status: 200, answer: "thanks", attempts: 1 }),
    ]),
  );
  // The same over the admin API (the CLI's verbs over HTTP).
  const token = "admin-token-for-tls-reports-0123456789abcdef";
  const { app } = createGatewayStack({ config: loadConfig({ SMARTHOST_ADMIN_TOKEN: token, SMARTHOST_HOSTNAME: "relay.test" }), database, writer: new GroupCommit(database.sql), hostname: "relay.test", log: () => {} });
  const admin = (path: string) => app.request(path, { headers: { authorization: `Bearer ${token}` } });
  const overHttp = await admin(`/v1/admin/tlsrpt/mail.test?date=${day}`);
  expect(overHttp.status).toBe(200);
  expect(await overHttp.json()).toEqual({ domain: "mail.test", day, state: "built", report: stored });
  expect(await (await admin("/v1/admin/tlsrpt")).json()).toEqual(JSON.parse(listed.stdout));
  expect((await admin("/v1/admin/tlsrpt/mail.test?date=2026-13-01")).status).toBe(400);
  // A day not reported yet: the report it would be.
  const ahead = await cli(dir, ["tlsrpt", "report", "web.test", "--date", dayFrom(start + 25 * HOUR)]);
  expect(ahead.stdout).toContain("not sent yet");
  expect((await cli(dir, ["tlsrpt", "report", "web.test", "--date", "2026-02-30"])).stderr).toContain("--date must be a day");
});

const dayFrom = (ms: number) => new Date(ms).toISOString().slice(0, 10);

test("two nodes racing make the day's report once and POST it once", async () => {
  const day = previousDay(Date.now() - 10 * 86_400_000);
  const now = () => dayBounds(day).end + 60_000;
  zone.txt["_smtp._tls.race.test"] = [[`v=TLSRPTv1; rua=mailto:race@reports.test,${httpsBase}/race`]];
  await session("race.test", dayBounds(day).start + HOUR, "mx mx.race.test [127.0.0.1]", tls({}), 2);
  const other = await openDatabase(`file:${join(dir, "smarthost.db")}`);
  try {
    const a = reporter(now);
    const b = reporter(now, other, new GroupCommit(other.sql));
    const made = await Promise.all([a.reportDay(), b.reportDay(), a.reportDay(), b.reportDay()]);
    expect(made.reduce((x, y) => x + y, 0)).toBe(1);
    expect(await count("SELECT COUNT(*) FROM tlsrpt_reports WHERE domain = 'race.test'")).toBe(1);
    expect(await count("SELECT COUNT(*) FROM tlsrpt_deliveries d JOIN tlsrpt_reports r ON r.id = d.report_row WHERE r.domain = 'race.test'")).toBe(2);
    expect(await count("SELECT COUNT(*) FROM recipients WHERE address = 'race@reports.test'")).toBe(1);
    const before = posts.length;
    await Promise.all([a.sendDue(), b.sendDue()]);
    expect(posts.slice(before).map((p) => p.path)).toEqual(["/race"]);
  } finally {
    other.close();
  }
});

test("an https report that fails is tried again with backoff, every answer recorded", async () => {
  const day = previousDay(Date.now() - 20 * 86_400_000);
  let t = dayBounds(day).end + 60_000;
  zone.txt["_smtp._tls.flaky.test"] = [[`v=TLSRPTv1; rua=${httpsBase}/flaky`]];
  answers["/flaky"] = [503, 500];
  await session("flaky.test", dayBounds(day).start + HOUR, "mx mx.flaky.test [127.0.0.1]", tls({}));
  const r = reporter(() => t);
  expect(await r.reportDay()).toBe(1);
  const row = async () => (await database.client.execute("SELECT d.state, d.attempts, d.status, d.next_attempt_at FROM tlsrpt_deliveries d JOIN tlsrpt_reports r ON r.id = d.report_row WHERE r.domain = 'flaky.test'")).rows[0]!;
  expect(await r.sendDue()).toBe(1);
  expect(await row()).toMatchObject({ state: "pending", attempts: 1, status: 503, next_attempt_at: t + 60_000 });
  expect(await r.sendDue()).toBe(0);
  t += 60_000;
  expect(await r.sendDue()).toBe(1);
  expect(await row()).toMatchObject({ state: "pending", attempts: 2, status: 500, next_attempt_at: t + 300_000 });
  t += 300_000;
  expect(await r.sendDue()).toBe(1);
  expect(await row()).toMatchObject({ state: "sent", attempts: 3, status: 200 });
  expect(posts.filter((p) => p.path === "/flaky")).toHaveLength(3);
});
