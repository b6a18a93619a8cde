/**
 * What an operator reads of webhooks: each attempt logged under its own name with its
 * reason, counted on /metrics by outcome — to real receivers on loopback (one answering 200,
 * one 500), then, with SMARTHOST_ALLOW_PRIVATE_WEBHOOKS off, to the same private addresses,
 * refused without being contacted; the setting that would let them through is named in the
 * log and in the API's error.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { addTenant, cliOk, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { startReceiver, type Receiver } from "../support/webhook-receiver.ts";
import { postMessage } from "../support/api.ts";
import { waitFor } from "../support/wait.ts";

const ALLOW = "SMARTHOST_ALLOW_PRIVATE_WEBHOOKS";

let dir = "";
let tenant: Tenant;
let upstream: Upstream;
let ok: Receiver;
let failing: Receiver;
let env: Record<string, string> = {};
const relays: Relay[] = [];

type Line = Record<string, unknown>;
const lines = (r: Relay): Line[] =>
  r
    .logs()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line);

const counter = async (r: Relay, outcome: string) => {
  const text = await (await fetch(`${r.http}/metrics`)).text();
  const m = new RegExp(`^smarthost_webhook_deliveries_total\\{outcome="${outcome}"\\} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : 0;
};

async function start(allowPrivate: boolean): Promise<Relay> {
  const r = await startRelay(dir, { ...env, [ALLOW]: String(allowPrivate) });
  relays.push(r);
  return r;
}

async function send(r: Relay, to: string): Promise<void> {
  expect((await postMessage(r.http, tenant.apiKey, { from: "alice@example.com", to: [to], subject: "hook", text: "x" })).status).toBe(202);
}

beforeAll(async () => {
  dir = tempDir();
  upstream = await startUpstream();
  tenant = await addTenant(dir);
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=required`]);
  const ca = join(dir, "upstream-ca.pem");
  writeFileSync(ca, upstream.cert);
  env = { SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_UPSTREAM_CA_FILE: ca, SMARTHOST_WEBHOOK_RETRY_SECONDS: "1,1,1,1,1,1,1,1,1,1" };
  ok = startReceiver();
  failing = startReceiver(0, () => [500]);
  // Added while private destinations are allowed (as in tests), both on loopback.
  await cliOk(dir, ["webhook", "add", "acme", ok.url, "--events", "message.delivered"], { [ALLOW]: "true" });
  await cliOk(dir, ["webhook", "add", "acme", failing.url, "--events", "message.delivered"], { [ALLOW]: "true" });
}, 60_000);

afterAll(async () => {
  for (const r of relays) await r.stop();
  await ok?.stop();
  await failing?.stop();
  await upstream?.close();
  if (dir) removeDir(dir);
});

describe("webhook attempts in the log and on /metrics", () => {
  test("an attempt logs as webhook_attempt with the payload's type and the reason; delivered and retried are counted", async () => {
    const r = await start(true);
    await send(r, "ok@dest.test");
    await waitFor("a delivered and a retried attempt on /metrics", async () => (await counter(r, "delivered")) >= 1 && (await counter(r, "retried")) >= 1);
    const attempts = lines(r).filter((l) => l.event === "webhook_attempt");
    expect(attempts.find((l) => l.outcome === "delivered")).toMatchObject({ type: "message.delivered", status: 200, reason: "HTTP 200", attempt: 1 });
    expect(attempts.find((l) => l.outcome === "retried")).toMatchObject({ type: "message.delivered", status: 500, reason: "HTTP 500", attempt: 1 });
    expect(typeof attempts.find((l) => l.outcome === "retried")!.next_attempt_at).toBe("string");
    // The payload's type never takes the line's name.
    expect(lines(r).some((l) => l.event === "message.delivered")).toBe(false);
    expect(ok.received.length).toBeGreaterThanOrEqual(1);
    await r.stop();
  }, 60_000);

  test("without SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: the attempt is refused, counted as refused, and the log names the setting", async () => {
    const r = await start(false);
    const contacted = ok.received.length;
    await send(r, "again@dest.test");
    await waitFor("refused attempts on /metrics", async () => (await counter(r, "refused")) >= 2);
    const refused = lines(r).filter((l) => l.event === "webhook_attempt" && l.outcome === "refused");
    expect(refused[0]).toMatchObject({ type: "message.delivered", status: null, fix: `${ALLOW}=true (tests only)` });
    expect(String(refused[0]!.reason)).toBe("refused destination: 127.0.0.1 is not a public address; refused");
    expect(lines(r).find((l) => l.event === "webhook_destination_refused")).toMatchObject({ addresses: ["127.0.0.1"], fix: `${ALLOW}=true (tests only)` });
    expect(ok.received.length).toBe(contacted);
    expect(await counter(r, "delivered")).toBe(0);
  }, 60_000);

  test("the API's refusal of a private URL names the setting, and is logged by host only", async () => {
    const r = relays.at(-1)!;
    const res = await fetch(`${r.http}/v1/webhooks`, { method: "POST", headers: { authorization: `Bearer ${tenant.apiKey}` }, body: JSON.stringify({ url: "https://127.0.0.1/hook?token=t0psecret" }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("invalid_webhook");
    expect(body.error.message).toContain(`${ALLOW}=true`);
    const logged = await waitFor("the refusal in the log", () => lines(r).find((l) => l.event === "webhook_url_refused"));
    expect(logged).toMatchObject({ host: "127.0.0.1", fix: `${ALLOW}=true (tests only)` });
    expect(r.logs()).not.toContain("t0psecret");
    const http = await fetch(`${r.http}/v1/webhooks`, { method: "POST", headers: { authorization: `Bearer ${tenant.apiKey}` }, body: JSON.stringify({ url: "http://hooks.example.com/x" }) });
    expect(((await http.json()) as { error: { message: string } }).error.message).toContain(ALLOW);
  }, 30_000);
});
