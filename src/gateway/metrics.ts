/**
 * Prometheus metrics (prom-client): accepted and rejected submissions, counted as they
 * happen; queue depth by state, read from the counts the writers keep (queue-counts.ts) —
 * a scrape reads four rows, never the recipients table; delivery attempts by TLS outcome,
 * likewise from counts kept with each attempt.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { Db } from "../db/client.ts";
import { deliveryTlsCounts } from "../db/schema.ts";
import { QUEUE_STATES, queueCounts } from "../queue/queue-counts.ts";
import { listRouteHealth } from "../shaping/route-health.ts";
import { complaintTotals } from "../complaints/rate.ts";

export interface Metrics {
  accepted(source: "smtp" | "http"): void;
  rejected(reason: string): void;
  /** A message to the inbound listener, by what became of it (src/inbound/act.ts). */
  inbound(outcome: string): void;
  render(): Promise<string>;
  readonly contentType: string;
}

export function createMetrics(db: Db): Metrics {
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
  new Gauge({
    name: "smarthost_route_up",
    help: "1 while a relay route's circuit breaker lets mail through, 0 while it is down or one probe is testing it",
    labelNames: ["route"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const h of await listRouteHealth(db.$client)) this.set({ route: h.route }, h.state === "up" ? 1 : 0);
    },
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
    inbound: (outcome) => inbound.inc({ outcome }),
    accepted: (source) => accepted.inc({ source }),
    rejected: (reason) => rejected.inc({ reason }),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
