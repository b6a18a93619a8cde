/** Prometheus metrics (prom-client): accepted and rejected submissions, queue depth. */
import { sql } from "drizzle-orm";
import { Counter, Gauge, Registry } from "prom-client";
import type { Db } from "../db/client.ts";

export interface Metrics {
  accepted(source: "smtp" | "http"): void;
  rejected(reason: string): void;
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
      const rows = await db.all<{ state: string; n: number }>(sql`SELECT state, count(*) AS n FROM recipients GROUP BY state`);
      this.reset();
      for (const state of ["queued", "deferred", "held", "delivered", "bounced", "deleted"]) {
        this.set({ state }, rows.find((r) => r.state === state)?.n ?? 0);
      }
    },
  });
  return {
    accepted: (source) => accepted.inc({ source }),
    rejected: (reason) => rejected.inc({ reason }),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
