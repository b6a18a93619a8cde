/**
 * Webhooks from the Worker (real workerd via `wrangler dev`): the delivery pass sends the
 * rows its own outcomes wrote, signed with WebCrypto HMAC; a receiver on loopback verifies
 * them with `standardwebhooks`.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { startSqld, type Sqld } from "../support/sqld.ts";
import { startWranglerDev, type WranglerDev } from "../support/wrangler.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { startReceiver, type Receiver } from "../support/webhook-receiver.ts";
import { cliOk, removeDir, tempDir } from "../support/relay.ts";
import { waitFor } from "../support/wait.ts";
import { generateSecretKey } from "../../src/secrets/cipher.ts";

let dir: string;
let sqld: Sqld;
let worker: WranglerDev;
let upstream: Upstream;
let receiver: Receiver;
let apiKey: string;
let secret: string;
const SECRET_KEY = generateSecretKey();

beforeAll(async () => {
  dir = tempDir();
  sqld = await startSqld(dir);
  upstream = await startUpstream({ hideStartTls: true });
  receiver = startReceiver();
  const remote = { SMARTHOST_DB_URL: sqld.url, SMARTHOST_SECRET_KEY: SECRET_KEY, SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: "true" };
  await cliOk(dir, ["account", "add", "edge"], remote);
  await cliOk(dir, ["sender", "allow", "edge", "example.com"], remote);
  apiKey = await cliOk(dir, ["key", "add", "edge"], remote);
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=none`], remote);
  secret = await cliOk(dir, ["webhook", "add", "edge", receiver.url, "--events", "message.delivered"], remote);
  worker = await startWranglerDev({ SMARTHOST_DB_URL: sqld.url, SMARTHOST_HOSTNAME: "edge.test", SMARTHOST_SECRET_KEY: SECRET_KEY, SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: "true" });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await receiver?.stop();
  await upstream?.close();
  await sqld?.stop();
  removeDir(dir);
});

test("the Worker sends the message.delivered webhook, signed so standardwebhooks verifies it", async () => {
  const res = await fetch(`${worker.url}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ from: "app@example.com", to: ["someone@dest.test"], subject: "edge hook", text: "x" }) });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  await waitFor("delivery", () => upstream.received.length >= 1 || undefined, 30_000);
  // The accept's own pass may end before the outcome is recorded; the cron picks up what is left.
  await waitFor(
    "webhook from the Worker",
    async () => {
      if (receiver.received.length === 0) await fetch(`${worker.url}/__scheduled`);
      return receiver.received.length >= 1 || undefined;
    },
    30_000,
  );
  const payload = new Webhook(secret).verify(receiver.received[0]!.body, receiver.received[0]!.headers) as { type: string; data: { message_id: string; subject: string; reply: { code: number } } };
  expect(payload.type).toBe("message.delivered");
  expect(payload.data).toMatchObject({ message_id: id, subject: "edge hook", reply: { code: 250 } });
}, 90_000);

test("the Worker's /metrics counts the delivery and the webhook attempt it made", async () => {
  // After the test above: the same isolate delivered the message and sent its webhook.
  const text = await waitFor(
    "the Worker's counts",
    async () => {
      const t = await (await fetch(`${worker.url}/metrics`)).text();
      return /^smarthost_webhook_deliveries_total\{outcome="delivered"\} 1$/m.test(t) ? t : undefined;
    },
    30_000,
  );
  expect(text).toMatch(/^smarthost_deliveries_total\{outcome="delivered",route="smtp:\/\/127\.0\.0\.1:\d+"\} 1$/m);
  expect(text).toMatch(/^smarthost_accept_seconds_count\{source="http",outcome="accepted"\} 1$/m);
}, 60_000);
