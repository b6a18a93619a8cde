/**
 * `smarthost serve`: the all-in-one node (ingress + gateway + HTTP API on one database),
 * or an ingress-only node when SMARTHOST_GATEWAY_URL names a remote gateway.
 */
import { hostname as osHostname } from "node:os";
import { ConfigError, httpBodyLimit, relayHostname, type Config } from "./config.ts";
import { createGatewayStack } from "./gateway/stack.ts";
import { loadCertificate } from "./ingress/certificate.ts";
import { startIngress } from "./ingress/listener.ts";
import { createRemoteHandler } from "./ingress/remote-handler.ts";
import { createLogger } from "./log.ts";
import { openDatabase } from "./runtime/bun-db.ts";
import { serveHttp, type HttpServer } from "./runtime/bun-http.ts";
import type { SubmissionHandler } from "./smtp/handler.ts";
import type { Logger } from "./smtp/session-types.ts";
import { createDelivery } from "./runtime/bun-delivery.ts";
import type { DeliveryWorker } from "./delivery/worker.ts";
import { GroupCommit } from "./queue/group-commit.ts";
import { secretBoxFromConfig } from "./runtime/secret-key-file.ts";
import { createWebhookSender } from "./runtime/bun-webhooks.ts";

export interface Running {
  stop(): Promise<void>;
}

/**
 * all-in-one: SMTP ingress, gateway (HTTP API) and delivery on one database;
 * ingress-only: SMTP in, every decision asked of a remote gateway (SMARTHOST_GATEWAY_URL);
 * egress-only: delivery alone (e.g. the node that may open port 25 next to an edge gateway).
 */
export type Mode = "all-in-one" | "ingress-only" | "egress-only";

export function modeOf(config: Config, egressOnly: boolean): Mode {
  if (egressOnly) return "egress-only";
  return config.SMARTHOST_GATEWAY_URL ? "ingress-only" : "all-in-one";
}

export async function serve(config: Config, mode: Mode = modeOf(config, false)): Promise<Running> {
  const log = createLogger(config.SMARTHOST_LOG);
  const host = relayHostname(config, osHostname());
  const maxBytes = config.SMARTHOST_MAX_MESSAGE_BYTES;
  const stops: (() => Promise<void> | void)[] = [];
  let handler: SubmissionHandler;
  const http: HttpServer[] = [];

  if (mode === "egress-only") return serveEgress(config, host, log);
  if (mode === "ingress-only") {
    handler = createRemoteHandler(config.SMARTHOST_GATEWAY_URL!, config.SMARTHOST_GATEWAY_TOKEN!, log);
  } else {
    const secrets = await secretBoxFromConfig(config);
    const database = await openDatabase(config.SMARTHOST_DB_URL, config.SMARTHOST_DB_AUTH_TOKEN, secrets, log);
    stops.push(() => database.close());
    // One writer for the process: submissions and delivery outcomes share commits.
    const writer = new GroupCommit(database.sql);
    let delivery: DeliveryWorker | null = null;
    if (config.SMARTHOST_DELIVERY) {
      const d = await createDelivery(config, host, database, writer, log, secrets);
      d.start();
      delivery = d;
      stops.unshift(() => d.stop());
      const hooks = createWebhookSender(config, database.sql, writer, log, secrets);
      hooks.start();
      stops.unshift(() => hooks.stop());
    }
    const stack = createGatewayStack({ config, database, writer, hostname: host, log, onAccepted: () => delivery?.kick(), secrets: () => Promise.resolve(secrets) });
    handler = stack.smtpHandler;
    const app = stack.app;
    // Every address in SMARTHOST_HTTP_LISTEN; empty serves no HTTP (an SMTP-only node).
    for (const at of config.SMARTHOST_HTTP_LISTEN) {
      const server = serveHttp(at, app.fetch, httpBodyLimit(maxBytes));
      http.push(server);
      stops.unshift(() => server.close());
    }
  }

  const certificate = await loadCertificate({
    certFile: config.SMARTHOST_TLS_CERT,
    keyFile: config.SMARTHOST_TLS_KEY,
    dataDir: config.SMARTHOST_DATA_DIR,
    hostname: host,
  });
  const ingress = await startIngress({
    smtp: config.SMARTHOST_SMTP_LISTEN,
    smtps: config.SMARTHOST_SMTPS_LISTEN,
    maxConnections: config.SMARTHOST_MAX_CONNECTIONS,
    maxConnectionsPerIp: config.SMARTHOST_MAX_CONNECTIONS_PER_IP,
    handler,
    certificate,
    idleTimeoutMs: config.SMARTHOST_SMTP_IDLE_TIMEOUT_SECONDS * 1000,
    greetDelayMs: config.SMARTHOST_GREET_DELAY_MS,
    log,
    session: {
      hostname: host,
      maxMessageBytes: maxBytes,
      maxRecipients: config.SMARTHOST_MAX_RECIPIENTS,
      maxErrors: config.SMARTHOST_MAX_ERRORS,
      allowInsecureAuth: config.SMARTHOST_ALLOW_INSECURE_AUTH,
    },
  });
  stops.unshift(() => ingress.close());

  // Tests and scripts read the bound ports (port 0 = any free port) from this line.
  log("listening", {
    smtp: ingress.smtp.map((a) => a.port),
    smtps: ingress.smtps.map((a) => a.port),
    http: http.map((h) => h.address.port),
    mode,
    delivery: mode === "all-in-one" && config.SMARTHOST_DELIVERY,
    hostname: host,
  });

  return {
    async stop() {
      for (const s of stops) await s();
    },
  };
}

async function serveEgress(config: Config, host: string, log: Logger): Promise<Running> {
  if (config.SMARTHOST_GATEWAY_URL) throw new ConfigError("an egress-only node opens the database itself: unset SMARTHOST_GATEWAY_URL");
  const secrets = await secretBoxFromConfig(config);
  const database = await openDatabase(config.SMARTHOST_DB_URL, config.SMARTHOST_DB_AUTH_TOKEN, secrets, log);
  const writer = new GroupCommit(database.sql);
  const delivery = await createDelivery(config, host, database, writer, log, secrets);
  delivery.start();
  const hooks = createWebhookSender(config, database.sql, writer, log, secrets);
  hooks.start();
  log("listening", { smtp: [], smtps: [], http: [], mode: "egress-only", delivery: true, hostname: host });
  return {
    async stop() {
      await delivery.stop();
      await hooks.stop();
      database.close();
    },
  };
}
