/**
 * One message's recipients along its routes, in order (failover), and for MX delivery host
 * by host (RFC 5321 §5.1: the next host on a connection failure or a 4xx). Free of sockets
 * and storage: the gate (route health and quota), the target planner and the sender come in
 * as parameters, so the order of tries is tested by hand (test/unit/delivery/failover.test.ts).
 * What it returns — each tried recipient's attempt, and when the untried ones may go — the
 * worker records.
 */
import type { RecipientResult } from "../core/delivery-result.ts";
import type { LeasedRecipient } from "../queue/lease.ts";
import type { Gate, GatedRoute, WaitReason } from "../shaping/route-gate.ts";
import { stored, type Attempt } from "./decide.ts";
import type { Route } from "./routing.ts";
import type { SessionResult } from "./smtp-client.ts";
import type { OutboundMessage } from "./smtp-transaction.ts";
import type { Target } from "./targets.ts";
import { tlsRecord } from "./tls-outcome.ts";

// How long recipients kept out of a route's probe wait for its answer.
export const PROBE_WAIT_MS = 1000;

export interface FailoverDeps {
  gate: { admit(route: GatedRoute, now: number, addresses: string[]): Promise<Gate>; observe(route: GatedRoute, results: RecipientResult[], now: number): Promise<void> };
  /** The hosts a route leads to, or the attempt that says why there are none (targets.ts). */
  targetsFor(route: Route, domain: string): Promise<Target[] | Attempt>;
  send(target: Target, message: OutboundMessage): Promise<SessionResult>;
  /** MX sessions' answers, for the destination's pace (src/shaping/destination-gate.ts). */
  observeMx?(results: RecipientResult[]): Promise<void>;
  /** A VERP envelope sender per recipient (src/return-path/): one transaction each. */
  verp?: ((recipientId: number) => Promise<string>) | null;
  now(): number;
}

export interface FailoverInput {
  routes: Route[];
  domain: string;
  recipients: LeasedRecipient[];
  message: Omit<OutboundMessage, "recipients" | "mailFrom"> & { mailFrom: string };
}

export interface FailoverResult {
  /** Each tried recipient's last attempt. */
  final: Map<number, Attempt>;
  /** The soonest a route skipped as down or spent (or a probe's answer) lets the untried go. */
  wait: { until: number; reason: WaitReason; route: string } | null;
}

export async function tryRoutes(deps: FailoverDeps, input: FailoverInput): Promise<FailoverResult> {
  const final = new Map<number, Attempt>();
  let pending = input.recipients;
  let wait: FailoverResult["wait"] = null;
  const soonest = (until: number, reason: WaitReason, route: string) => {
    if (!wait || until < wait.until) wait = { until, reason, route };
  };

  for (const route of input.routes.length > 0 ? input.routes : [{ kind: "mx" } as Route]) {
    if (pending.length === 0) break;
    // Recipients this route does not carry now; they stay for the next route, or wait.
    let withheld: LeasedRecipient[] = [];
    if (route.kind === "relay") {
      const gate = await deps.gate.admit(route, deps.now(), pending.map((r) => r.address));
      if (!gate.use) {
        soonest(gate.until, gate.reason, route.label);
        continue;
      }
      if (gate.withhold.size > 0) {
        // Kept out of the route's probe: they wait for its answer (src/shaping/route-gate.ts).
        withheld = pending.filter((r) => gate.withhold.has(r.address));
        pending = pending.filter((r) => !gate.withhold.has(r.address));
        soonest(deps.now() + PROBE_WAIT_MS, "route_down", route.label);
      }
    }
    const targets = await deps.targetsFor(route, input.domain);
    if (!Array.isArray(targets)) {
      for (const r of pending) final.set(r.id, targets);
      if (targets.outcome === "permanent") pending = [];
      pending = [...pending, ...withheld];
      continue;
    }
    for (const target of targets) {
      if (pending.length === 0) break;
      const next: LeasedRecipient[] = [];
      for (const batch of deps.verp ? pending.map((r) => [r]) : [pending]) {
        const mailFrom = deps.verp ? await deps.verp(batch[0]!.id) : input.message.mailFrom;
        const result = await deps.send(target, { ...input.message, mailFrom, recipients: batch });
        if (route.kind === "relay") await deps.gate.observe(route, result.results, deps.now());
        else await deps.observeMx?.(result.results);
        const via = route.kind === "relay" ? route.label : `mx ${target.tlsName ?? target.hostname} [${target.hostname}]`;
        const remoteMta = result.sessionFailure?.stage === "connect" ? null : (target.tlsName ?? target.hostname);
        const tls = tlsRecord(result.tls, target.sts ?? { policy: null, required: target.verifyTls });
        batch.forEach((r, i) => {
          const res = result.results[i]!;
          final.set(r.id, { outcome: res.outcome, reply: stored(res.reply), via, remoteMta, tls });
          // Try the next host on a connection failure or a 4xx (RFC 5321 §5.1).
          if (res.outcome === "transient") next.push(r);
        });
      }
      pending = next;
    }
    pending = [...pending, ...withheld];
  }
  return { final, wait };
}
