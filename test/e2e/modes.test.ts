/**
 * The split deployment on Bun nodes: a gateway (HTTP + handoff, no delivery), an
 * ingress-only node that never opens the database, and an egress-only node that only
 * delivers — the gateway and the egress node on one real libSQL server (sqld), as an edge
 * deployment's Bun nodes are.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { addTenant, cliOk, removeDir, startRelay, startRelayArgs, tempDir, type Relay } from "../support/relay.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { smtplibSend } from "../support/python.ts";
import { startSharedDb, type SharedDb } from "../support/shared-db.ts";
import { waitFor } from "../support/wait.ts";

const started: Relay[] = [];
const dirs: string[] = [];
let upstream: Upstream | null = null;
let shared: SharedDb | null = null;
afterAll(async () => {
  for (const r of started) await r.stop();
  await upstream?.close();
  await shared?.sqld.stop();
  for (const d of dirs) removeDir(d);
});

test("SMTP in on an ingress node, committed by the gateway, delivered by the egress node", async () => {
  const dir = tempDir();
  const ingressDir = tempDir();
  dirs.push(dir, ingressDir);
  upstream = await startUpstream();
  shared = await startSharedDb(dir);
  const tenant = await addTenant(dir, { env: shared.env });
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=required`], shared.env);
  writeFileSync(join(dir, "ca.pem"), upstream.cert);

  const gateway = await startRelay(dir, { ...shared.env, SMARTHOST_GATEWAY_TOKEN: "edge-link-token-0123456789abcdefghijkl", SMARTHOST_DELIVERY: "false" });
  started.push(gateway);
  const ingress = await startRelay(ingressDir, { SMARTHOST_GATEWAY_URL: gateway.http, SMARTHOST_GATEWAY_TOKEN: "edge-link-token-0123456789abcdefghijkl", SMARTHOST_HTTP_LISTEN: "", SMARTHOST_DB_URL: "file:/nonexistent/db" });
  started.push(ingress);
  const egress = await startRelayArgs(dir, ["serve", "--egress-only"], {
    ...shared.env,
    SMARTHOST_UPSTREAM_CA_FILE: join(dir, "ca.pem"),
    SMARTHOST_DELIVERY_POLL_MS: "100",
  });
  started.push(egress);
  expect(egress.logs()).toContain('"mode":"egress-only"');
  expect(egress.smtpPort).toBe(0);

  const reply = await smtplibSend(ingress.smtpPort, tenant.username, tenant.password, "alice@example.com", ["bob@dest.test"], "From: alice@example.com\r\nSubject: three nodes\r\n\r\nhello\r\n");
  const id = /queued as (\S+)/.exec(reply)![1]!;
  await waitFor("delivery by the egress node", () => upstream!.received.length >= 1 || undefined);
  expect(upstream.received[0]!.raw.toString()).toContain("Subject: three nodes");
  const status = await waitFor("delivered status", async () => {
    const res = await fetch(`${gateway.http}/v1/messages/${id}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
    const body = (await res.json()) as { status: string };
    return body.status === "delivered" ? body : undefined;
  });
  expect(status.status).toBe("delivered");
}, 60_000);
