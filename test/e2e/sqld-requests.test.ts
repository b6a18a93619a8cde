/**
 * What a message costs a remote libSQL server: a node on sqld, behind a proxy that counts
 * the HTTP requests it is sent, accepts over SMTP and HTTP and delivers to an upstream. At
 * most 3 requests per accepted-and-delivered message, whatever the number of sessions: the
 * acceptance is one plan, the outcome another, and concurrent ones share a request.
 */
import { afterAll, expect, test } from "bun:test";
import nodemailer, { type Transporter } from "nodemailer";
import { startDelayProxy, type DelayProxy } from "../support/delay-proxy.ts";
import { addTenant, cliOk, openDb, removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";
import { startSharedDb, type SharedDb } from "../support/shared-db.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";

const dir = tempDir();
let shared: SharedDb | null = null;
let proxy: DelayProxy | null = null;
let upstream: Upstream | null = null;
let relay: Relay | null = null;
const transports: Transporter[] = [];
afterAll(async () => {
  for (const t of transports) t.close();
  await relay?.stop();
  await upstream?.close();
  await proxy?.stop();
  await shared?.sqld.stop();
  removeDir(dir);
});

test("a node on sqld: at most 3 database requests per message accepted (SMTP and HTTP, 8 sessions) and delivered", async () => {
  shared = await startSharedDb(dir);
  upstream = await startUpstream();
  const tenant = await addTenant(dir, { env: shared.env });
  await cliOk(dir, ["network", "allow", tenant.account, "127.0.0.1/32"], shared.env);
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=none`], shared.env);
  proxy = await startDelayProxy({ port: Number(new URL(shared.url).port) }, 0);
  relay = await startRelay(dir, { ...shared.env, SMARTHOST_DB_URL: proxy.url, SMARTHOST_DELIVERY: "true" });
  const db = openDb(shared.url);
  const delivered = async () => Number((await db.execute("SELECT count(*) AS n FROM recipients WHERE state = 'delivered'")).rows[0]!.n);

  const smtp = () => {
    const t = nodemailer.createTransport({ host: "127.0.0.1", port: relay!.smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, maxMessages: Infinity });
    transports.push(t);
    return t;
  };
  const viaSmtp = (t: Transporter, rcpt: string) => t.sendMail({ envelope: { from: "app@example.com", to: [rcpt] }, raw: `From: app@example.com\r\nTo: ${rcpt}\r\nSubject: ${rcpt}\r\n\r\n${("x".repeat(70) + "\r\n").repeat(28)}` });
  const viaHttp = async (rcpt: string) => {
    const res = await fetch(`${relay!.http}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${tenant.apiKey}` }, body: JSON.stringify({ from: "app@example.com", to: [rcpt], subject: rcpt, text: "y".repeat(2000) }) });
    expect(res.status).toBe(202);
  };
  const sessions = [smtp(), smtp(), smtp(), smtp()];
  // Warm: the sessions are open and what a node keeps for a few seconds (account, key) is read.
  await Promise.all([...sessions.map((t, i) => viaSmtp(t, `warm${i}@dest.test`)), viaHttp("warm-http@dest.test")]);
  await waitFor("the warm-up messages delivered", async () => (await delivered()) === 5, 30_000);

  const PER_SESSION = 15;
  proxy.reset();
  await Promise.all([
    ...sessions.map(async (t, s) => {
      for (let i = 0; i < PER_SESSION; i++) await viaSmtp(t, `s${s}-${i}@dest.test`);
    }),
    ...[0, 1, 2, 3].map(async (h) => {
      for (let i = 0; i < PER_SESSION; i++) await viaHttp(`h${h}-${i}@dest.test`);
    }),
  ]);
  const sent = 8 * PER_SESSION;
  await waitFor("every message delivered and recorded", async () => (await delivered()) === 5 + sent, 60_000);
  const requests = proxy.requests();
  db.close();
  const perMessage = requests / sent;
  console.log(`sqld requests: ${requests} for ${sent} messages (${perMessage.toFixed(2)} per message) ${JSON.stringify(proxy.byRequest())}`);
  expect(perMessage).toBeLessThanOrEqual(3);
});
