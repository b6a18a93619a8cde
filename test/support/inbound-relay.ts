/**
 * A relay with its inbound listener for late bounces and complaints: an smtp-server upstream
 * as every destination, a webhook receiver subscribed for account acme, and the inbound
 * port read from the `listening` line. Optionally a return path for example.com first.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { addTenant, cliOk, removeDir, startRelay, tempDir, type Relay, type Tenant } from "./relay.ts";
import { startUpstream, type Upstream } from "./upstream.ts";
import { startReceiver, type Receiver } from "./webhook-receiver.ts";

export interface InboundRelay {
  dir: string;
  relay: Relay;
  tenant: Tenant;
  upstream: Upstream;
  receiver: Receiver;
  inboundPort: number;
  stop(): Promise<void>;
}

export async function startInboundRelay(o: { complaintAddress: string; returnPath?: [string, string]; before?: (dir: string) => Promise<void> }): Promise<InboundRelay> {
  const dir = tempDir();
  const upstream = await startUpstream();
  const receiver = startReceiver();
  const tenant = await addTenant(dir);
  await o.before?.(dir);
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=required`]);
  await cliOk(dir, ["webhook", "add", "acme", receiver.url], { SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: "true" });
  if (o.returnPath) await cliOk(dir, ["domain", "return-path", ...o.returnPath]);
  const ca = join(dir, "upstream-ca.pem");
  writeFileSync(ca, upstream.cert);
  const relay = await startRelay(dir, {
    SMARTHOST_DELIVERY: "true",
    SMARTHOST_DELIVERY_POLL_MS: "100",
    SMARTHOST_UPSTREAM_CA_FILE: ca,
    SMARTHOST_INBOUND_LISTEN: "127.0.0.1:0",
    SMARTHOST_COMPLAINT_ADDRESS: o.complaintAddress,
    SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: "true",
    SMARTHOST_WEBHOOK_RETRY_SECONDS: "1,1,1,1,1",
  });
  const listening = JSON.parse(relay.logs().split("\n").find((l) => l.includes('"event":"listening"'))!) as { inbound: number[] };
  return {
    dir,
    relay,
    tenant,
    upstream,
    receiver,
    inboundPort: listening.inbound[0]!,
    async stop() {
      await relay.stop();
      await upstream.close();
      await receiver.stop();
      removeDir(dir);
    },
  };
}
