/**
 * Prometheus metrics (prom-client): accepted and rejected submissions, counted as they
 * happen; queue depth by state, read from the counts the writers keep (queue-counts.ts) —
 * a scrape reads four rows, never the recipients table; delivery attempts by TLS outcome,
 * likewise from counts kept with each attempt; every configured relay route's breaker.
 * Counted by this node as they happen: delivery outcomes by route and their latency from
 * acceptance, the time each submission waited for its answer, webhook attempts by outcome.
 * docs/grafana-smarthost.json charts them (its test checks every name it uses is here).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Db } from "../db/client.ts";
import { deliveryTlsCounts, routes } from "../db/schema.ts";
import { QUEUE_STATES, queueCounts } from "../queue/queue-counts.ts";
import { listRouteHealth, type Health } from "../shaping/route-health.ts";
import { complaintTotals } from "../complaints/rate.ts";
import { parseRoute } from "../delivery/routing.ts";
import type { DeliveryObserver } from "../delivery/worker-config.ts";
import type { WebhookAttemptOutcome } from "../webhooks/sender.ts";
import type { SubmissionHandler } from "../smtp/handler.ts";

export interface Metrics extends DeliveryObserver {
  accepted(source: "smtp" | "http"): void;
  rejected(reason: string): void;
  /** A message to the inbound listener, by what became of it (src/inbound/act.ts). */
  inbound(outcome: string): void;
  /** How long a submission waited for its answer: end of DATA → reply, request body read → response. */
  acceptSeconds(source: "smtp" | "http", outcome: "accepted" | "refused", seconds: number): void;
  /** One webhook attempt, by what became of it (src/webhooks/sender.ts). */
  webhookAttempt(outcome: WebhookAttemptOutcome): void;
  render(): Promise<string>;
  readonly contentType: string;
}

// A circuit breaker's state as a number an alert can compare: 0 up, 1 half-open (one probe
// testing the route), 2 down.
const BREAKER_VALUE: Record<Health, number> = { up: 0, probing: 1, down: 2 };

// Acceptance → delivered spans a fast relay (well under a second) to retries over days.
const DELIVERY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400, 432_000];
// An accept is a commit (a few ms) plus DKIM signing and policy lookups.
const ACCEPT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The relay routes' labels: every route configured (`route add`, and SMARTHOST_UPSTREAM when
 * it names a relay), so a route shows before any mail went its way. The label is the one
 * that keys its health (src/delivery/routing.ts): scheme, host and port, never credentials.
 */
async function configuredRelays(db: Db, defaultUpstream: string | undefined): Promise<string[]> {
  const urls = (await db.selectDistinct({ url: routes.url }).from(routes)).map((r) => r.url);
  const labels = [defaultUpstream, ...urls].flatMap((u) => {
    const r = u === undefined ? null : parseRoute(u);
    return r?.kind === "relay" ? [r.label] : [];
  });
  return [...new Set(labels)];
}

export function createMetrics(db: Db, opts: { defaultUpstream?: string } = {}): Metrics {
  const registry = new Registry();
  const accepted = new Counter({
    name: "smarthost_messages_accepted_total",
    help: "Messages accepted and committed to the queue",
    labelNames: ["source"],
    registers: [registry],
  });
  const rejected = new Counter({
    name: "smarthost_submissions_rejected_total",
    help: "Submissions or steps refused, by reason",
    labelNames: ["reason"],
    registers: [registry],
  });
  new Gauge({
    name: "smarthost_queue_recipients",
    help: "Recipients in the queue, by state",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      const counts = await queueCounts(db);
      for (const state of QUEUE_STATES) this.set({ state }, counts[state]);
    },
  });
  new Counter({
    name: "smarthost_delivery_tls_total",
    help: "Delivery attempts by TLS outcome (none, opportunistic, verified) and RFC 8460 result type of a failure",
    labelNames: ["outcome", "result_type"],
    registers: [registry],
    // Counted by the writers with each attempt (queue/outcomes.ts): every node's attempts, kept across restarts.
    async collect() {
      const rows = await db.select().from(deliveryTlsCounts);
      this.reset();
      for (const r of rows) this.inc({ outcome: r.outcome, result_type: r.resultType }, r.n);
    },
  });
  // Both breaker gauges read the same rows once per scrape.
  const breakers = async () => {
    const [configured, health] = await Promise.all([configuredRelays(db, opts.defaultUpstream), listRouteHealth(db.$client)]);
    const state = new Map<string, Health>(configured.map((route) => [route, "up"]));
    for (const h of health) state.set(h.route, h.state);
    return { configured, state };
  };
  new Gauge({
    name: "smarthost_route_up",
    help: "1 while a relay route's circuit breaker lets mail through, 0 while it is down or one probe is testing it",
    labelNames: ["route"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [route, state] of (await breakers()).state) this.set({ route }, state === "up" ? 1 : 0);
    },
  });
  new Gauge({
    name: "smarthost_route_breaker_state",
    help: "Each configured relay route's circuit breaker: 0 up, 1 half-open (one probe testing it), 2 down",
    labelNames: ["route"],
    registers: [registry],
    async collect() {
      this.reset();
      const { configured, state } = await breakers();
      for (const route of configured) this.set({ route }, BREAKER_VALUE[state.get(route) ?? "up"]);
    },
  });
  // Counted by this node as its workers record outcomes (src/delivery/worker.ts): sum over nodes.
  const deliveries = new Counter({
    name: "smarthost_deliveries_total",
    help: "Recipients' delivery outcomes recorded by this node (delivered, deferred, bounced), by route (a relay's scheme://host:port, or mx)",
    labelNames: ["outcome", "route"],
    registers: [registry],
  });
  const deliverySeconds = new Histogram({
    name: "smarthost_delivery_seconds",
    help: "Seconds from a message's acceptance to a recipient's delivery, by route",
    labelNames: ["route"],
    buckets: DELIVERY_BUCKETS,
    registers: [registry],
  });
  const acceptSeconds = new Histogram({
    name: "smarthost_accept_seconds",
    help: "Seconds a submission waited for its answer: SMTP from the end of DATA to the reply, HTTP from the request body read to the response",
    labelNames: ["source", "outcome"],
    buckets: ACCEPT_BUCKETS,
    registers: [registry],
  });
  const webhooks = new Counter({
    name: "smarthost_webhook_deliveries_total",
    help: "Webhook attempts by what became of them: delivered, retried (to be tried again), failed (given up), gone (410: endpoint disabled), refused (destination not a public address)",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const inbound = new Counter({
    name: "smarthost_inbound_messages_total",
    help: "Messages to the inbound listener (DSNs, feedback reports), by what became of them; nothing received is forwarded",
    labelNames: ["outcome"],
    registers: [registry],
  });
  new Counter({
    name: "smarthost_complaints_total",
    help: "Complaints (ARF feedback reports) about mail each account sent, one per message and recipient",
    labelNames: ["account"],
    registers: [registry],
    // Recorded with each report (complaints/rate.ts): every node's, kept across restarts.
    async collect() {
      this.reset();
      for (const r of await complaintTotals(db.$client)) this.inc({ account: r.account }, r.n);
    },
  });
  return {
    deliveryRecorded(outcome, route, seconds) {
      deliveries.inc({ outcome, route });
      if (outcome === "delivered") deliverySeconds.observe({ route }, seconds);
    },
    acceptSeconds: (source, outcome, seconds) => acceptSeconds.observe({ source, outcome }, seconds),
    webhookAttempt: (outcome) => webhooks.inc({ outcome }),
    inbound: (outcome) => inbound.inc({ outcome }),
    accepted: (source) => accepted.inc({ source }),
    rejected: (reason) => rejected.inc({ reason }),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

/** The SMTP handler with each accept timed: from the end of DATA (the call) to the reply it returns. */
export function timeSmtpAccepts(handler: SubmissionHandler, metrics: Metrics): SubmissionHandler {
  return {
    ...handler,
    async accept(session, envelope, message, proposedId) {
      const started = performance.now();
      const outcome = await handler.accept(session, envelope, message, proposedId);
      metrics.acceptSeconds("smtp", outcome.ok ? "accepted" : "refused", (performance.now() - started) / 1000);
      return outcome;
    },
  };
}
