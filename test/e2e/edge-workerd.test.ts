/**
 * The edge deployment under real workerd (`wrangler dev`): the gateway as a Worker on a
 * remote libSQL (over HTTP), a Bun ingress-only node handing it an SMTP message, and the
 * Worker relaying it over `cloudflare:sockets` to an upstream SMTP server on loopback.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { startSqld, type Sqld } from "../support/sqld.ts";
import { freeTcpPort } from "../support/ports.ts";
import { startWranglerDev, type WranglerDev } from "../support/wrangler.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { dkimVerify } from "mailauth";
import { printedRecords } from "../support/dkim-relay.ts";
import { cli, cliOk, openDb, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { smtplibSend } from "../support/python.ts";
import { waitFor } from "../support/wait.ts";
import { generateSecretKey } from "../../src/secrets/cipher.ts";

let dir: string;
let sqld: Sqld;
/** Where the cron.test route points; nothing listens there until the cron test starts a server. */
let cronPort: number;
let worker: WranglerDev;
let upstream: Upstream;
let starttlsUpstream: Upstream;
let implicitUpstream: Upstream;
let ingress: Relay;
let tenant: Tenant;
// The CLI seals route passwords with the key the Worker opens them with.
const SECRET_KEY = generateSecretKey();
const ROUTE_AUTH = { username: "edge-route-user", password: "edge route/pass:1" };
// DKIM records as `dkim add` printed them; the Worker signs with the keys it stored.
let dkimRecords: Record<string, string> = {};

beforeAll(async () => {
  dir = tempDir();
  sqld = await startSqld(dir);
  upstream = await startUpstream({ hideStartTls: true });
  starttlsUpstream = await startUpstream();
  implicitUpstream = await startUpstream({ secure: true, auth: ROUTE_AUTH });
  // workerd always verifies certificates; it reads its roots from SSL_CERT_FILE, so the
  // test's CA joins the system bundle for this run only.
  const bundle = join(dir, "ca-bundle.pem");
  writeFileSync(bundle, `${readFileSync("/etc/ssl/certs/ca-certificates.crt", "utf8")}\n${starttlsUpstream.cert}`);
  // The CLI (Bun) administers the same remote database the Worker uses.
  const remote = { SMARTHOST_DB_URL: sqld.url, SMARTHOST_SECRET_KEY: SECRET_KEY };
  tenant = await (async () => {
    const account = "edge";
    await cliOk(dir, ["account", "add", account], remote);
    await cliOk(dir, ["credential", "add", account, "edgeuser", "--password", "edge-password-1"], remote);
    await cliOk(dir, ["sender", "allow", account, "example.com"], remote);
    const apiKey = await cliOk(dir, ["key", "add", account], remote);
    cronPort = await freeTcpPort();
    await cliOk(dir, ["route", "add", "cron.test", `smtp://127.0.0.1:${cronPort}?tls=none`], remote);
    await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=none`], remote);
    await cliOk(dir, ["route", "add", "starttls.test", `smtp://localhost:${starttlsUpstream.port}?tls=required`], remote);
    await cliOk(dir, ["route", "add", "implicit.test", `smtps://${ROUTE_AUTH.username}:${encodeURIComponent(ROUTE_AUTH.password)}@localhost:${implicitUpstream.port}`], remote);
    dkimRecords = printedRecords((await cli(dir, ["dkim", "add", "example.com", "--algorithm", "both", "--selector", "edge"], remote)).stdout);
    return { account, username: "edgeuser", password: "edge-password-1", apiKey };
  })();
  worker = await startWranglerDev(
    { SMARTHOST_DB_URL: sqld.url, SMARTHOST_GATEWAY_TOKEN: "edge-shared-token-0123456789abcdefghij", SMARTHOST_HOSTNAME: "edge.test", SMARTHOST_SECRET_KEY: SECRET_KEY },
    { SSL_CERT_FILE: bundle },
  );
  ingress = await startRelay(tempDir(), {
    SMARTHOST_GATEWAY_URL: worker.url,
    SMARTHOST_GATEWAY_TOKEN: "edge-shared-token-0123456789abcdefghij",
    SMARTHOST_HTTP_LISTEN: "",
    SMARTHOST_DB_URL: "file:/nonexistent/never.db",
  });
}, 120_000);

async function messageStatus(id: string) {
  const res = await fetch(`${worker.url}/v1/messages/${id}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
  return (await res.json()) as {
    status: string;
    recipients: { state: string; attempts: number; next_attempt_at: string | null }[];
    events: { type: string; detail: string }[];
  };
}

afterAll(async () => {
  await ingress?.stop();
  await worker?.stop();
  await upstream?.close();
  await starttlsUpstream?.close();
  await implicitUpstream?.close();
  await sqld?.stop();
  removeDir(dir);
});

test("SMTP into a Bun ingress node, accepted by the Worker, delivered by it over cloudflare:sockets", async () => {
  const reply = await smtplibSend(ingress.smtpPort, tenant.username, tenant.password, "app@example.com", ["someone@dest.test"], "From: app@example.com\r\nSubject: via the edge\r\n\r\nhello from workerd\r\n");
  const id = /queued as (\S+)/.exec(reply)?.[1];
  // Give wrangler a moment to print what the Worker logged before showing it.
  if (!id) await Bun.sleep(1500);
  if (!id) throw new Error(`no 250 from the ingress node (${reply}); Worker log:\n${worker.logs().slice(-4000)}\ningress log:\n${ingress.logs().slice(-2000)}`);
  await waitFor("the Worker's delivery", () => upstream.received.length >= 1 || undefined, 30_000);
  const got = upstream.received[0]!;
  expect(got.mailFrom).toBe("app@example.com");
  expect(got.rcptTo).toEqual(["someone@dest.test"]);
  expect(got.raw.toString()).toContain("hello from workerd");
  // Signed in workerd, RSA and Ed25519 both (node:crypto's RSA signing is refused there).
  const dkim = await dkimVerify(got.raw, { resolver: async (name: string) => [[dkimRecords[name] ?? ""]] });
  expect(dkim.results.map((r) => `${r.signingDomain} ${r.status.result}`)).toEqual(["example.com pass", "example.com pass"]);
  const status = await waitFor("delivered status", async () => {
    const res = await fetch(`${worker.url}/v1/messages/${id}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
    const body = (await res.json()) as { status: string; events: { detail: string }[] };
    return body.status === "delivered" ? body : undefined;
  });
  expect(status.events.at(-1)!.detail).toContain(`via smtp://127.0.0.1:${upstream.port}`);
  // Committed in the shared libSQL server, where every node reads it.
  const shared = openDb(sqld.url);
  const stored = await shared.execute({ sql: "SELECT source FROM messages WHERE id = ?", args: [id!] });
  shared.close();
  expect(stored.rows.map((r) => r.source)).toEqual(["smtp"]);
}, 60_000);

test("the Worker serves the JSON API and the cron delivers what is due", async () => {
  // The route's upstream is down when the message is accepted: the accept's own delivery
  // (waitUntil) can only defer it. Only a later cron run can deliver it.
  const res = await fetch(`${worker.url}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${tenant.apiKey}` },
    body: JSON.stringify({ from: "app@example.com", to: ["json@cron.test"], subject: "json at the edge", text: "built in workerd" }),
  });
  expect(res.status, `${await res.clone().text()}\n${worker.logs().slice(-3000)}`).toBe(202);
  const { id } = (await res.json()) as { id: string };
  const deferred = await waitFor("the accept's attempt to be deferred", async () => {
    const v = await messageStatus(id);
    return v.recipients[0]!.state === "deferred" ? v : undefined;
  }, 30_000);
  expect(deferred.recipients[0]!.attempts).toBe(1);

  const late = await startUpstream({ port: cronPort });
  try {
    // The retry falls due (test Workers retry after 1 s: support/wrangler.ts); nothing but
    // the cron runs deliveries now. One cron run: /__scheduled answers before its delivery
    // ends, and overlapping runs would only contend for the same rows.
    const due = Date.parse(deferred.recipients[0]!.next_attempt_at!);
    await waitFor("the retry to fall due", () => Date.now() > due || undefined, 30_000);
    expect(late.received).toHaveLength(0);
    expect(await (await fetch(`${worker.url}/__scheduled`)).text()).toContain("Ran scheduled event");
    const delivered = await waitFor("the cron's delivery", async () => {
      const v = await messageStatus(id);
      return v.status === "delivered" ? v : undefined;
    }, 30_000);
    expect(delivered.recipients[0]!.attempts).toBe(2);
    expect(delivered.events.map((e) => e.type)).toEqual(["accepted", "deferred", "delivered"]);
    expect(late.received).toHaveLength(1);
    expect(late.received[0]!.raw.toString()).toContain("Subject: json at the edge");
  } finally {
    await late.close();
  }
}, 60_000);

test("64 submissions at once: every one 202 and stored once, none canceled by workerd as hung", async () => {
  // More database requests in flight than the client's default cap (20): none may wait for
  // a slot another request's fetch frees, and writers that race for sqld's lock are asked again.
  const from = worker.logs().length;
  const responses = await Promise.all(
    Array.from({ length: 64 }, (_, i) =>
      fetch(`${worker.url}/v1/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${tenant.apiKey}` },
        body: JSON.stringify({ from: "app@example.com", to: [`burst${i}@burst.test`], subject: `burst ${i}`, text: "at once" }),
      }),
    ),
  );
  const log = () => worker.logs().slice(from);
  expect(responses.map((r) => r.status), log().slice(-3000)).toEqual(responses.map(() => 202));
  const ids = await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id));
  expect(new Set(ids).size).toBe(64);
  const db = openDb(sqld.url);
  try {
    const rows = (await db.execute({ sql: `SELECT count(*) AS n FROM messages WHERE id IN (${ids.map(() => "?").join(", ")})`, args: ids })).rows;
    expect(Number(rows[0]!.n)).toBe(64);
  } finally {
    db.close();
  }
  expect(log()).not.toMatch(/hung|canceled this request|different request context/i);
  // Delivered by the accepts' own rounds, more than one round can lease, with no cron.
  const burst = () => new Set(upstream.received.filter((m) => m.rcptTo.some((r) => r.endsWith("@burst.test"))).flatMap((m) => m.rcptTo));
  await waitFor("all 64 delivered without a cron", () => burst().size === 64 || undefined, 30_000);
}, 60_000);

test("the Worker delivers over STARTTLS and over implicit TLS (AUTH with a sealed route password), certificates verified", async () => {
  for (const domain of ["starttls.test", "implicit.test"]) {
    const res = await fetch(`${worker.url}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${tenant.apiKey}` },
      body: JSON.stringify({ from: "app@example.com", to: [`x@${domain}`], subject: `tls to ${domain}`, text: "secure" }),
    });
    expect(res.status).toBe(202);
  }
  await waitFor("both TLS deliveries", () => (starttlsUpstream.received.length >= 1 && implicitUpstream.received.length >= 1) || undefined, 30_000);
  expect(starttlsUpstream.received[0]!.secure).toBe(true);
  expect(implicitUpstream.received[0]!.secure).toBe(true);
  // The route's password was sealed by the CLI and opened by the Worker.
  expect(implicitUpstream.received[0]!.user).toBe(ROUTE_AUTH.username);
  expect(starttlsUpstream.received[0]!.raw.toString()).toContain("Subject: tls to starttls.test");
}, 60_000);

test("wrangler builds the Worker bundle (what `wrangler deploy` uploads)", async () => {
  const out = tempDir();
  const p = Bun.spawn([join(import.meta.dir, "..", "..", "node_modules", ".bin", "wrangler"), "deploy", "--dry-run", "--outdir", out], {
    cwd: join(import.meta.dir, "..", ".."),
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", CI: "true" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [text, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  removeDir(out);
  expect(code).toBe(0);
  expect(text).toContain("--dry-run: exiting now.");
}, 120_000);

test("a Worker without SMARTHOST_SECRET_KEY keeps accepting but refuses to deliver, saying why", async () => {
  const keyless = await startWranglerDev({ SMARTHOST_DB_URL: sqld.url, SMARTHOST_HOSTNAME: "edge.test" });
  try {
    const before = upstream.received.length;
    const res = await fetch(`${keyless.url}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${tenant.apiKey}` },
      body: JSON.stringify({ from: "app@example.com", to: ["nokey@dest.test"], subject: "no key", text: "waits" }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await fetch(`${keyless.url}/__scheduled`);
    await waitFor("the refusal in the Worker's log", () => keyless.logs().includes("SMARTHOST_SECRET_KEY is required on Workers") || undefined, 30_000);
    const state = (await (await fetch(`${keyless.url}/v1/messages/${id}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } })).json()) as { status: string };
    expect(state.status).toBe("queued");
    expect(upstream.received.length).toBe(before);
  } finally {
    await keyless.stop();
  }
}, 90_000);
