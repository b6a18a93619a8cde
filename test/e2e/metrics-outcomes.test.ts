/**
 * /metrics as an operator alerts on it: the relay delivers to a real upstream (smtp-server)
 * that accepts one recipient, defers one (4xx) and refuses one (5xx); submissions come over
 * SMTP (Python's smtplib) and HTTP. The scrape shows every configured route's breaker before
 * any traffic, the outcomes by route, and the latency histograms' counts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { addTenant, cliOk, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { PY_PRELUDE, python } from "../support/python.ts";
import { postMessage } from "../support/api.ts";
import { freeTcpPort } from "../support/ports.ts";
import { waitFor } from "../support/wait.ts";

let dir = "";
let relay: Relay;
let upstream: Upstream;
let tenant: Tenant;
let before = "";
let downPort = 0;

const ROUTE_PASSWORD = "pr0vider-s3cret";

/** One message over SMTP; NOTIFY=NEVER keeps the bounce from sending a DSN (one more delivery). */
function sendSmtp(rcpts: string[]): Promise<string> {
  return python<string>(
    `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.starttls(context=ctx)
s.login(sys.argv[2], sys.argv[3])
s.mail('alice@example.com')
for r in json.loads(sys.argv[4]):
    s.rcpt(r, options=['NOTIFY=NEVER'])
code, text = s.data(b'From: alice@example.com\\r\\nSubject: metrics\\r\\n\\r\\nhello\\r\\n')
s.quit()
out(text.decode())`,
    [relay.smtpPort, tenant.username, tenant.password, JSON.stringify(rcpts)],
  );
}

const scrape = async () => (await fetch(`${relay.http}/metrics`)).text();

/** A sample's value, or undefined when the series is not there. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? "").split(",").filter(Boolean);
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[3]);
  }
  return undefined;
}

beforeAll(async () => {
  dir = tempDir();
  upstream = await startUpstream({
    onRcpt: (a) => (a.startsWith("later@") ? { code: 451, message: "4.3.0 try again later" } : a.startsWith("gone@") ? { code: 550, message: "5.1.1 no such user here" } : null),
  });
  tenant = await addTenant(dir);
  const ca = join(dir, "upstream-ca.pem");
  writeFileSync(ca, upstream.cert);
  await cliOk(dir, ["route", "add", "dest.test", `smtp://127.0.0.1:${upstream.port}?tls=required`]);
  // A second route that no mail ever takes, with a password: listed, never shown with it.
  downPort = await freeTcpPort();
  await cliOk(dir, ["route", "add", "spare.test", `smtps://provider:${ROUTE_PASSWORD}@127.0.0.1:${downPort}`]);
  // SMARTHOST_RETRY_BASE_SECONDS stays 300: the deferred recipient is tried once in this test.
  relay = await startRelay(dir, { SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_UPSTREAM_CA_FILE: ca });
  before = await scrape();
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  await upstream?.close();
  if (dir) removeDir(dir);
});

describe("/metrics for alerts", () => {
  test("every route added with `route add` has a breaker gauge before any traffic, its credentials never shown", () => {
    expect(sample(before, "smarthost_route_breaker_state", { route: `smtp://127.0.0.1:${upstream.port}` })).toBe(0);
    expect(sample(before, "smarthost_route_breaker_state", { route: `smtps://127.0.0.1:${downPort}` })).toBe(0);
    expect(sample(before, "smarthost_route_up", { route: `smtps://127.0.0.1:${downPort}` })).toBe(1);
    expect(before).not.toContain(ROUTE_PASSWORD);
    expect(before).not.toContain("provider:");
  });

  test("delivered, deferred (4xx) and bounced (5xx) counted by route, with acceptance → delivery and accept latency", async () => {
    const route = `smtp://127.0.0.1:${upstream.port}`;
    expect(await sendSmtp(["ok@dest.test", "later@dest.test", "gone@dest.test"])).toContain("queued as");
    const res = await postMessage(relay.http, tenant.apiKey, { from: "alice@example.com", to: ["ok2@dest.test"], subject: "metrics", text: "hello" });
    expect(res.status).toBe(202);
    // A refused submission is timed too, under its own outcome.
    expect((await postMessage(relay.http, tenant.apiKey, { from: "mallory@elsewhere.test", to: ["ok@dest.test"], subject: "x", text: "x" })).status).toBe(403);

    const text = await waitFor("the outcomes on /metrics", async () => {
      const t = await scrape();
      const n = (outcome: string) => sample(t, "smarthost_deliveries_total", { outcome, route }) ?? 0;
      return n("delivered") === 2 && n("deferred") === 1 && n("bounced") === 1 ? t : undefined;
    });
    expect(upstream.received.flatMap((m) => m.rcptTo).sort()).toEqual(["ok2@dest.test", "ok@dest.test"]);
    expect(sample(text, "smarthost_delivery_seconds_count", { route })).toBe(2);
    expect(sample(text, "smarthost_delivery_seconds_bucket", { le: "+Inf", route })).toBe(2);
    expect(sample(text, "smarthost_delivery_seconds_sum", { route })).toBeGreaterThan(0);
    expect(sample(text, "smarthost_accept_seconds_count", { source: "smtp", outcome: "accepted" })).toBe(1);
    expect(sample(text, "smarthost_accept_seconds_count", { source: "http", outcome: "accepted" })).toBe(1);
    expect(sample(text, "smarthost_accept_seconds_count", { source: "http", outcome: "refused" })).toBe(1);
    // Routes no mail took keep their gauge; no delivery series is made up for them.
    expect(sample(text, "smarthost_route_breaker_state", { route: `smtps://127.0.0.1:${downPort}` })).toBe(0);
    expect(text).not.toContain(`smarthost_deliveries_total{outcome="delivered",route="smtps://127.0.0.1:${downPort}"}`);
    expect(text).not.toContain(ROUTE_PASSWORD);
  }, 60_000);
});
