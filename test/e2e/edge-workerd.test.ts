/**
 * The edge deployment under real workerd (`wrangler dev`): the gateway as a Worker on a
 * remote libSQL (over HTTP), a Bun ingress-only node handing it an SMTP message, and the
 * Worker relaying it over `cloudflare:sockets` to an upstream SMTP server on loopback.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { readFileSync, writeFileSync } from "node:fs";
import { startHranaServer, type HranaServer } from "../support/hrana-server.ts";
import { startWranglerDev, type WranglerDev } from "../support/wrangler.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { dkimVerify } from "mailauth";
import { printedRecords, SECRET_KEY } from "../support/dkim-relay.ts";
import { cli, cliOk, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { smtplibSend } from "../support/python.ts";
import { waitFor } from "../support/wait.ts";

let dir: string;
let hrana: HranaServer;
let worker: WranglerDev;
let upstream: Upstream;
let starttlsUpstream: Upstream;
let implicitUpstream: Upstream;
let ingress: Relay;
let tenant: Tenant;
// DKIM records as `dkim add` printed them; the Worker signs with the keys it stored.
let dkimRecords: Record<string, string> = {};

beforeAll(async () => {
  dir = tempDir();
  hrana = startHranaServer(join(dir, "edge.db"));
  upstream = await startUpstream({ hideStartTls: true });
  starttlsUpstream = await startUpstream();
  implicitUpstream = await startUpstream({ secure: true });
  // workerd always verifies certificates; it reads its roots from SSL_CERT_FILE, so the
  // test's CA joins the system bundle for this run only.
  const bundle = join(dir, "ca-bundle.pem");
  writeFileSync(bundle, `${readFileSync("/etc/ssl/certs/ca-certificates.crt", "utf8")}\n${starttlsUpstream.cert}`);
  // The CLI (Bun) administers the same remote database the Worker uses.
  const remote = { SMARTHOST_DB_URL: hrana.url };
  tenant = await (async () => {
    const account = "edge";
    await cliOk(dir, ["account", "add", account], remote);
    await cliOk(dir, ["credential", "add", account, "edgeuser", "--password", "edge-password-1"], remote);
    await cliOk(dir, ["sender", "allow", account, "example.com"], remote);
    const apiKey = await cliOk(dir, ["key", "add", account], remote);
    await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=none`], remote);
    await cliOk(dir, ["route", "add", "starttls.test", `smtp://localhost:${starttlsUpstream.port}?tls=required`], remote);
    await cliOk(dir, ["route", "add", "implicit.test", `smtps://localhost:${implicitUpstream.port}`], remote);
    dkimRecords = printedRecords((await cli(dir, ["dkim", "add", "example.com", "--algorithm", "both", "--selector", "edge"], { ...remote, SMARTHOST_SECRET_KEY: SECRET_KEY })).stdout);
    return { account, username: "edgeuser", password: "edge-password-1", apiKey };
  })();
  worker = await startWranglerDev(
    { SMARTHOST_DB_URL: hrana.url, SMARTHOST_GATEWAY_TOKEN: "edge-shared-token", SMARTHOST_HOSTNAME: "edge.test", SMARTHOST_SECRET_KEY: SECRET_KEY },
    { SSL_CERT_FILE: bundle },
  );
  ingress = await startRelay(tempDir(), {
    SMARTHOST_GATEWAY_URL: worker.url,
    SMARTHOST_GATEWAY_TOKEN: "edge-shared-token",
    SMARTHOST_HTTP_LISTEN: "",
    SMARTHOST_DB_URL: "file:/nonexistent/never.db",
  });
}, 120_000);

afterAll(async () => {
  await ingress?.stop();
  await worker?.stop();
  await upstream?.close();
  await starttlsUpstream?.close();
  await implicitUpstream?.close();
  await hrana?.stop();
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
  expect(hrana.requests).toBeGreaterThan(0);
}, 60_000);

test("the Worker serves the JSON API and the cron delivers what is due", async () => {
  const before = upstream.received.length;
  const res = await fetch(`${worker.url}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${tenant.apiKey}` },
    body: JSON.stringify({ from: "app@example.com", to: ["json@dest.test"], subject: "json at the edge", text: "built in workerd" }),
  });
  if (res.status !== 202) {
    await Bun.sleep(1500);
    console.log(await res.text(), worker.logs().slice(-3000));
  }
  expect(res.status).toBe(202);
  await fetch(`${worker.url}/__scheduled`);
  await waitFor("JSON message delivered", () => upstream.received.length > before || undefined, 30_000);
  expect(upstream.received.at(-1)!.raw.toString()).toContain("Subject: json at the edge");
}, 60_000);

test("the Worker delivers over STARTTLS and over implicit TLS, certificates verified", async () => {
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
