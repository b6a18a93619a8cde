/**
 * `smarthost serve`: the all-in-one node (ingress + gateway + HTTP API on one database),
 * or an ingress-only node when SMARTHOST_GATEWAY_URL names a remote gateway.
 */
import { httpBodyLimit, type Config } from "./config.ts";
import { createGatewayStack } from "./stack.ts";
import { loadCertificate } from "./ingress/certificate.ts";
import { listenError } from "./ingress/bind-error.ts";
import { startIngress, type Ingress } from "./ingress/listener.ts";
import type { CertificatePair } from "./ingress/certificate.ts";
import { createInboundHandler } from "./inbound/handler.ts";
import { createRemoteHandler } from "./ingress/remote-handler.ts";
import { createLogger } from "./log.ts";
import { openDatabase } from "./runtime/bun-db.ts";
import { serveHttp, type HttpServer } from "./runtime/bun-http.ts";
import type { SubmissionHandler } from "./smtp/handler.ts";
import type { Logger } from "./core/log.ts";
import { createDelivery } from "./runtime/bun-delivery.ts";
import type { DeliveryWorker } from "./delivery/worker.ts";
import { GroupCommit } from "./db/group-commit.ts";
import { secretBoxFromConfig } from "./runtime/secret-key-file.ts";
import { createDnsResolve } from "./runtime/node-dns-records.ts";
import { createWebhookSender } from "./runtime/bun-webhooks.ts";
import { createTlsReporter } from "./runtime/bun-tlsrpt.ts";
import { tlsRptEnabled } from "./tlsrpt/settings.ts";
import { createDkimPool } from "./runtime/dkim-pool.ts";
import { clientEnv } from "./util/client-address.ts";
import { Failure } from "./core/failure.ts";
import { resolve } from "node:path";
import { daneProbe } from "./runtime/dane-probe.ts";
import { startHostname } from "./runtime/host-name.ts";

// A delivery outcome waits this long for an accepted message to share its commit: with one
// client sending message after message, half the transactions (src/db/group-commit.ts).
const OUTCOME_WAIT_MS = 2;

export interface Running {
  /** Closes listeners (421 4.3.2 to open sessions), delivery, then the database; logs one line. */
  stop(signal?: string): Promise<void>;
}

/** One line at shutdown, once everything is closed: what stopped it and how long it took. */
function stopping(log: Logger, stop: () => Promise<void>): Running["stop"] {
  return async (signal) => {
    const t0 = Date.now();
    await stop();
    log("stopped", { signal: signal ?? null, ms: Date.now() - t0 });
  };
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

/**
 * Start-up order: the database, then every listener, then delivery last. A listener that
 * cannot bind stops start-up with one line (bind-error.ts) before delivery has started,
 * and what was already opened is closed again.
 */
export async function serve(config: Config, mode: Mode = modeOf(config, false)): Promise<Running> {
  const log = createLogger(config.SMARTHOST_LOG);
  const host = await startHostname(config, log);
  if (mode === "egress-only") return serveEgress(config, host, log);
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const s of stops) await s();
  };
  try {
    return await start(config, mode, host, log, stops, stopAll);
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function start(config: Config, mode: Mode, host: string, log: Logger, stops: (() => Promise<void> | void)[], stopAll: () => Promise<void>): Promise<Running> {
  const maxBytes = config.SMARTHOST_MAX_MESSAGE_BYTES;
  let handler: SubmissionHandler;
  const http: HttpServer[] = [];
  let startDelivery: (() => Promise<void>) | null = null;
  let inboundHandler: SubmissionHandler | null = null;

  if (mode === "ingress-only") {
    handler = createRemoteHandler(config.SMARTHOST_GATEWAY_URL!, config.SMARTHOST_GATEWAY_TOKEN!, log);
  } else {
    const secrets = await secretBoxFromConfig(config);
    const database = await openDatabase(config.SMARTHOST_DB_URL, config.SMARTHOST_DB_AUTH_TOKEN, secrets, log, {
      // WAL checkpoints on a thread of their own; the entry resolved from src/, as for DKIM below.
      checkpointThread: new URL("./runtime/checkpointer-thread.ts", import.meta.url),
    });
    const closeDatabase = () => database.close();
    stops.push(closeDatabase);
    // One writer for the process: submissions and delivery outcomes share commits.
    const writer = new GroupCommit(database.sql, { syncWal: database.syncWal, lazyMs: OUTCOME_WAIT_MS });
    let delivery: DeliveryWorker | null = null;
    // DKIM signatures are made on other threads while this one accepts (started on first use).
    // The entry resolved from here (src/), which is also where the single binary's bundle
    // roots every module, so the same URL finds the thread's entry in both.
    const dkimPool = createDkimPool({ entry: new URL("./runtime/dkim-pool-worker.ts", import.meta.url) });
    stops.push(() => dkimPool.close());
    const stack = createGatewayStack({ config, database, writer, hostname: host, log, secrets, onAccepted: () => delivery?.kick(),
      // New messages go straight to this process's worker once it runs (src/queue/handoff.ts).
      handoff: { claim: (now) => delivery?.claim(now) ?? null, take: (m, g) => delivery?.take(m, g), cancel: () => delivery?.cancel() },
      dns: createDnsResolve(config.SMARTHOST_DNS_SERVERS), dkimPool, dane: daneProbe(config, log) });
    handler = stack.smtpHandler;
    const app = stack.app;
    // Bounces and feedback reports (src/inbound/): on the node that holds the database.
    if (config.SMARTHOST_INBOUND_LISTEN.length > 0) {
      inboundHandler = createInboundHandler({ sql: database.sql, writer, mac: (data, purpose) => secrets.mac(data, purpose), complaintAddress: config.SMARTHOST_COMPLAINT_ADDRESS ?? null, log, count: (outcome) => stack.metrics.inbound(outcome) });
    }
    // Every address in SMARTHOST_HTTP_LISTEN; empty serves no HTTP (an SMTP-only node).
    for (const at of config.SMARTHOST_HTTP_LISTEN) {
      let server: HttpServer;
      try {
        server = serveHttp(at, (req, peer) => app.fetch(req, clientEnv(req, peer, config.SMARTHOST_TRUSTED_PROXIES)), httpBodyLimit(maxBytes));
      } catch (err) {
        throw listenError(err, at, "SMARTHOST_HTTP_LISTEN");
      }
      http.push(server);
      stops.unshift(() => server.close());
    }
    if (config.SMARTHOST_DELIVERY) {
      startDelivery = async () => {
        const d = await createDelivery(config, host, database, writer, log, secrets, stack.metrics);
        d.start();
        delivery = d;
        // Webhooks go out from the nodes that deliver mail.
        const hooks = createWebhookSender(config, database.sql, writer, log, secrets, (outcome) => stack.metrics.webhookAttempt(outcome));
        hooks.start();
        // TLS reports go out from the nodes that deliver mail (made once per domain and day).
        const reports = tlsRptEnabled(config) ? createTlsReporter(config, host, database, writer, log, secrets, () => d.kick()) : null;
        reports?.start();
        // Stopped after the listeners, before the database.
        stops.splice(stops.indexOf(closeDatabase), 0, () => d.stop(), () => hooks.stop(), async () => reports?.stop());
      };
    }
  }

  const certificate = await loadCertificate({
    certFile: config.SMARTHOST_TLS_CERT,
    keyFile: config.SMARTHOST_TLS_KEY,
    dataDir: config.SMARTHOST_DATA_DIR,
    hostname: host,
  });
  const ingress = await startIngress({
    ...listenerLimits(config, handler, certificate, log),
    smtp: config.SMARTHOST_SMTP_LISTEN,
    smtps: config.SMARTHOST_SMTPS_LISTEN,
    session: { ...sessionLimits(config, host), maxMessageBytes: maxBytes, allowInsecureAuth: config.SMARTHOST_ALLOW_INSECURE_AUTH },
  });
  stops.unshift(() => ingress.close());
  const inbound = inboundHandler ? await startInbound(config, inboundHandler, certificate, host, log) : null;
  if (inbound) stops.unshift(() => inbound.close());
  // Every listener is bound: only now may delivery start.
  await startDelivery?.();

  // Tests and scripts read the bound ports (port 0 = any free port) from this line.
  log("listening", {
    smtp: ingress.smtp.map((a) => a.port),
    smtps: ingress.smtps.map((a) => a.port),
    http: http.map((h) => h.address.port),
    inbound: inbound?.smtp.map((a) => a.port) ?? [],
    mode,
    delivery: mode === "all-in-one" && config.SMARTHOST_DELIVERY,
    hostname: host,
  });

  log("started", whereThingsAre(config, http));
  return { stop: stopping(log, stopAll) };
}

/**
 * Where a newcomer finds things (the database, the data folder, the dashboard and docs),
 * on the line after "listening".
 */
function whereThingsAre(config: Config, http: HttpServer[]): Record<string, unknown> {
  const at = http[0]?.address;
  const host = at && !["0.0.0.0", "::"].includes(at.host) ? at.host : "127.0.0.1";
  const base = at ? `http://${host.includes(":") ? `[${host}]` : host}:${at.port}` : null;
  const file = config.SMARTHOST_DB_URL.startsWith("file:") ? resolve(config.SMARTHOST_DB_URL.slice("file:".length).split("?")[0]!) : null;
  return {
    database: file ?? config.SMARTHOST_DB_URL.replace(/\/\/[^@/]*@/, "//***@"),
    data_dir: resolve(config.SMARTHOST_DATA_DIR),
    docs: base ? `${base}/docs` : null,
    dashboard: base && config.SMARTHOST_ADMIN_TOKEN ? `${base}/dashboard` : null,
    ...(config.SMARTHOST_ADMIN_TOKEN ? {} : { dashboard_off: "set SMARTHOST_ADMIN_TOKEN (32+ characters) to turn on the dashboard and the admin API" }),
  };
}

/** The limits and clocks every SMTP listener of this node keeps (ingress and inbound alike). */
function listenerLimits(config: Config, handler: SubmissionHandler, certificate: CertificatePair | null, log: Logger) {
  return {
    maxConnections: config.SMARTHOST_MAX_CONNECTIONS,
    maxConnectionsPerIp: config.SMARTHOST_MAX_CONNECTIONS_PER_IP,
    handler,
    certificate,
    idleTimeoutMs: config.SMARTHOST_SMTP_IDLE_TIMEOUT_SECONDS * 1000,
    commandDeadlineMs: config.SMARTHOST_SMTP_COMMAND_DEADLINE_SECONDS * 1000,
    minDataRate: config.SMARTHOST_SMTP_MIN_DATA_RATE,
    greetDelayMs: config.SMARTHOST_GREET_DELAY_MS,
    log,
  };
}

const sessionLimits = (config: Config, host: string) => ({
  hostname: host,
  maxMessageBytes: config.SMARTHOST_MAX_MESSAGE_BYTES,
  maxRecipients: config.SMARTHOST_MAX_RECIPIENTS,
  maxErrors: config.SMARTHOST_MAX_ERRORS,
});

/** The inbound listener: the ingress's listener, limits and timeouts, with the inbound handler and no AUTH. */
function startInbound(config: Config, handler: SubmissionHandler, certificate: CertificatePair | null, host: string, log: Logger): Promise<Ingress> {
  return startIngress({
    ...listenerLimits(config, handler, certificate, log),
    smtp: config.SMARTHOST_INBOUND_LISTEN,
    smtps: [],
    smtpVariable: "SMARTHOST_INBOUND_LISTEN",
    session: { ...sessionLimits(config, host), allowInsecureAuth: false, offerAuth: false },
  });
}

async function serveEgress(config: Config, host: string, log: Logger): Promise<Running> {
  if (config.SMARTHOST_GATEWAY_URL) throw new Failure("config", "an egress-only node opens the database itself: unset SMARTHOST_GATEWAY_URL");
  const secrets = await secretBoxFromConfig(config);
  const database = await openDatabase(config.SMARTHOST_DB_URL, config.SMARTHOST_DB_AUTH_TOKEN, secrets, log);
  const writer = new GroupCommit(database.sql, { syncWal: database.syncWal, lazyMs: OUTCOME_WAIT_MS });
  const delivery = await createDelivery(config, host, database, writer, log, secrets);
  delivery.start();
  const hooks = createWebhookSender(config, database.sql, writer, log, secrets);
  hooks.start();
  const reports = tlsRptEnabled(config) ? createTlsReporter(config, host, database, writer, log, secrets, () => delivery.kick()) : null;
  reports?.start();
  log("listening", { smtp: [], smtps: [], http: [], mode: "egress-only", delivery: true, hostname: host });
  return {
    stop: stopping(log, async () => {
      await delivery.stop();
      await hooks.stop();
      await reports?.stop();
      database.close();
    }),
  };
}
