/**
 * swaks (Debian) as the remote MTA and the feedback loop: a DSN (RFC 3464) to a return-path
 * token and an ARF report (RFC 5965) to the complaint address, delivered to the inbound
 * listener, change the suppression list and fire the webhooks.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { postMessage } from "../support/api.ts";
import { cliOk, type Relay, type Tenant } from "../support/relay.ts";
import { startInboundRelay, type InboundRelay } from "../support/inbound-relay.ts";
import { buildArf, buildDsn } from "../support/reports.ts";
import { requireTool, run } from "../support/require-tool.ts";
import type { Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";
import type { Receiver } from "../support/webhook-receiver.ts";

const swaks = requireTool("swaks");
let dir: string;
let relay: Relay;
let tenant: Tenant;
let upstream: Upstream;
let receiver: Receiver;
let inboundPort: number;

let fixture: InboundRelay;

beforeAll(async () => {
  fixture = await startInboundRelay({ complaintAddress: "fbl@relay.test", returnPath: ["example.com", "bounces.example.com"] });
  ({ dir, relay, tenant, upstream, receiver, inboundPort } = fixture);
});

afterAll(async () => {
  await fixture?.stop();
});

/** swaks from the null sender, as a remote MTA sends a report; returns its transcript. */
async function swaksReport(to: string, data: string): Promise<string> {
  const file = join(dir, `report-${Date.now()}-${Math.random().toString(36).slice(2)}.eml`);
  writeFileSync(file, data);
  const r = await run([swaks, "--server", `127.0.0.1:${inboundPort}`, "--from", "<>", "--to", to, "--helo", "mx.dest.test", "--data", file, "--timeout", "10"]);
  expect(r.code, r.out).toBe(0);
  return r.out;
}

const hooks = () => receiver.received.map((h) => JSON.parse(h.body) as { type: string; data: Record<string, unknown> });
const suppressions = async () => JSON.parse(await cliOk(dir, ["suppression", "list", "acme", "--json"])) as { address: string; reason: string }[];

test("swaks: a 5.1.1 DSN to the return-path token and an ARF report to the complaint address reach the suppression list and the webhooks", async () => {
  const res = await postMessage(relay.http, tenant.apiKey, { from: "alice@example.com", to: ["gone@dest.test", "bob@dest.test"], subject: "news", text: "hello" });
  expect(res.status).toBe(202);
  await waitFor("both delivered with their own envelope", () => upstream.received.length >= 2);
  const envelope = new Map(upstream.received.map((r) => [r.rcptTo[0]!, r.mailFrom]));
  expect(envelope.get("gone@dest.test")).toMatch(/^b-[0-9a-z-]+@bounces\.example\.com$/);

  const dsnOut = await swaksReport(envelope.get("gone@dest.test")!, buildDsn({ to: envelope.get("gone@dest.test")!, recipients: [{ finalRecipient: "gone@dest.test", action: "failed", status: "5.1.1", diagnostic: "550 5.1.1 <gone@dest.test>: user unknown" }] }));
  expect(dsnOut).toMatch(/<-\s+250 /);
  await waitFor("bounce suppression", async () => (await suppressions()).some((s) => s.address === "gone@dest.test" && s.reason === "bounce"));
  const bounced = await waitFor("message.bounced", () => hooks().find((h) => h.type === "message.bounced" && h.data.recipient === "gone@dest.test"));
  expect(bounced.data).toMatchObject({ late: true, reply: { code: 550, enhanced: "5.1.1" } });

  const original = upstream.received.find((r) => r.rcptTo[0] === "bob@dest.test")!.raw.toString("latin1");
  await swaksReport("fbl@relay.test", buildArf({ to: "fbl@relay.test", originalRcptTo: "bob@dest.test", original }));
  await waitFor("complaint suppression", async () => (await suppressions()).some((s) => s.address === "bob@dest.test" && s.reason === "complaint"));
  const complained = await waitFor("message.complained", () => hooks().find((h) => h.type === "message.complained"));
  expect(complained.data).toMatchObject({ recipient: "bob@dest.test", feedback_type: "abuse" });

  // Anything else gets 550 5.7.1 from the inbound listener: it is no open relay and no mailbox.
  const refused = await run([swaks, "--server", `127.0.0.1:${inboundPort}`, "--from", "<>", "--to", "postmaster@relay.test", "--timeout", "10"]);
  expect(refused.code).not.toBe(0);
  expect(refused.out).toMatch(/<\*\*\s+550 5\.7\.1 /);
}, 60_000);
