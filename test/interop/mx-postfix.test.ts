/** Direct MX delivery with Debian peers: dnsmasq answers the MX query, Postfix is the MX. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startDnsmasq, type Dnsmasq } from "../support/dnsmasq.ts";
import { startPostfix, type Postfix } from "../support/postfix.ts";
import { freeTcpPort } from "../support/ports.ts";
import { addTenant, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { requireTool, run } from "../support/require-tool.ts";
import { waitFor } from "../support/wait.ts";

let dir: string;
let dns: Dnsmasq;
let postfix: Postfix;
let sink: Upstream;
let relay: Relay;
let tenant: Tenant;

beforeAll(async () => {
  requireTool("swaks");
  dir = tempDir();
  sink = await startUpstream();
  // A free port can be taken between choosing it and Postfix binding it: try another once.
  postfix = await startPostfix({ port: await freeTcpPort(), relayTo: sink.port, relayDomains: "dest.test" }).catch(async () =>
    startPostfix({ port: await freeTcpPort(), relayTo: sink.port, relayDomains: "dest.test" }),
  );
  dns = await startDnsmasq({ mx: [["dest.test", "mx.dest.test", 10]], hosts: [["mx.dest.test", "127.0.0.1"]] });
  tenant = await addTenant(dir);
  relay = await startRelay(dir, {
    SMARTHOST_DELIVERY: "true",
    SMARTHOST_DELIVERY_POLL_MS: "100",
    SMARTHOST_DNS_SERVERS: dns.address,
    SMARTHOST_MX_PORT: String(postfix.port),
    SMARTHOST_ALLOW_PRIVATE_MX: "true",
  });
});
afterAll(async () => {
  await relay?.stop();
  await dns?.stop();
  await postfix?.stop();
  await sink?.close();
  removeDir(dir);
});

test("swaks → relay → MX from dnsmasq → Postfix → upstream, with the status API showing delivery", async () => {
  const r = await run([
    "swaks", "--server", `127.0.0.1:${relay.smtpPort}`, "--tls",
    "--auth", "PLAIN", "--auth-user", tenant.username, "--auth-password", tenant.password,
    "--from", "alice@example.com", "--to", "bob@dest.test", "--header", "Subject: through postfix",
  ]);
  expect(r.code).toBe(0);
  const id = /queued as (\S+)/.exec(r.out)![1]!;
  await waitFor("Postfix to pass it on", () => sink.received.length >= 1 || undefined, 30_000);
  const got = sink.received[0]!;
  expect(got.mailFrom).toBe("alice@example.com");
  expect(got.rcptTo).toEqual(["bob@dest.test"]);
  const text = got.raw.toString();
  expect(text).toContain("by mx.dest.test (Postfix)");
  expect(text).toContain("by relay.test (smarthost) with ESMTPSA");
  expect(text).toContain("Subject: through postfix");
  const status = await waitFor("delivered status", async () => {
    const res = await fetch(`${relay.http}/v1/messages/${id}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
    const body = (await res.json()) as { status: string; recipients: { last_reply: string }[]; events: { detail: string }[] };
    return body.status === "delivered" ? body : undefined;
  });
  expect(status.recipients[0]!.last_reply).toMatch(/^250 2\.0\.0 Ok: queued as/);
  expect(status.events.at(-1)!.detail).toContain("mx mx.dest.test [127.0.0.1]");
  expect(postfix.log()).toContain("from=<alice@example.com>");
}, 60_000);
