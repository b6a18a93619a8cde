/**
 * Before a relay route carries a message: is it up (or is this the one probe), and has it
 * quota left? After: what the answer says about the route. The delivery worker asks here
 * and moves on to the next route when the answer is no — no attempt is spent on a route
 * that is down or spent.
 */
import type { Sql } from "../db/raw.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import type { Logger } from "../core/log.ts";
import type { RecipientResult } from "../core/delivery-result.ts";
import { appendRouteEvent } from "./route-events.ts";
import { admit, healthOf, routeFailed, routeSucceeded, type BreakerConfig } from "./route-health.ts";
import { noQuota, takeRouteQuotaPlan, type RouteQuota } from "./route-quota.ts";
import { RefusedRecipients, routeVerdict } from "./route-verdict.ts";

export type WaitReason = "route_down" | "route_quota";

/** `withhold`: recipients not to carry on this route now (kept out of its probe). */
export type Gate = { use: true; probe: boolean; withhold: Set<string> } | { use: false; until: number; reason: WaitReason };

// While another session holds a half-open route's probe, its other mail looks again this soon.
const PROBE_WAIT_MS = 1000;

export interface GatedRoute {
  label: string;
  quota?: RouteQuota;
}

const replyText = (r: RecipientResult) => `${r.reply.code}${r.reply.enhanced ? ` ${r.reply.enhanced}` : ""} ${r.reply.lines.join(" ")}`.trim();

// A route seen up with no failure counted is taken as such this long without reading its
// row again (twice per delivery otherwise). This node's own failures end it at once; a
// trip recorded by another node is seen here within this time.
const CLEAN_MEMO_MS = 1000;

export class RouteGate {
  /** Route → until when it is known up with no failure counted. */
  private readonly clean = new Map<string, number>();
  /** Addresses each route's relay refused on their own. */
  private readonly refused = new RefusedRecipients();

  constructor(
    private readonly deps: { sql: Sql; writer: GroupCommit; log: Logger; breaker: BreakerConfig },
  ) {}

  private knownClean(route: string, now: number): boolean {
    return (this.clean.get(route) ?? 0) > now;
  }

  private async readHealth(route: string, now: number) {
    const h = (await healthOf(this.deps.sql, [route])).get(route);
    if (!h || (h.state === "up" && h.failures === 0)) this.clean.set(route, now + CLEAN_MEMO_MS);
    else this.clean.delete(route);
    return h;
  }

  /**
   * Whether `addresses` may go by this route now. A route that is not up takes one probe,
   * and a probe never carries an address the relay refused on its own: that refusal would
   * say nothing about the route. With nothing else to carry, the probe is left to other mail.
   */
  async admit(route: GatedRoute, now: number, addresses: string[] = []): Promise<Gate> {
    const health = this.knownClean(route.label, now) ? undefined : await this.readHealth(route.label, now);
    let withhold = new Set<string>();
    if (health && health.state !== "up") {
      withhold = new Set(addresses.filter((a) => this.refused.has(route.label, a, now)));
      if (addresses.length > 0 && withhold.size === addresses.length) {
        const until = health.state === "down" && health.downUntil > now ? health.downUntil : now + PROBE_WAIT_MS;
        return { use: false, until, reason: "route_down" };
      }
    }
    const a = health && health.state !== "up" ? await this.deps.writer.write((sql) => admit(sql, route.label, health, now, this.deps.breaker)) : { use: true as const, probe: false };
    if (!a.use) return { use: false, until: a.until, reason: "route_down" };
    const open = { ...a, withhold };
    if (noQuota(route.quota)) return open;
    const q = await this.deps.writer.writePlan(takeRouteQuotaPlan(route.label, route.quota!, now));
    return q.ok ? open : { use: false, until: q.resetAt, reason: "route_quota" };
  }

  /** Feeds one session's answers to the breaker (route-verdict.ts). */
  async observe(route: GatedRoute, results: RecipientResult[], now: number): Promise<void> {
    const verdict = routeVerdict(results, (a) => this.refused.has(route.label, a, now));
    this.refused.note(route.label, results, now);
    const { writer, log, breaker } = this.deps;
    if (verdict.kind === "none") return;
    if (verdict.kind === "failure") {
      const { failure, atOnce } = verdict;
      this.clean.delete(route.label);
      const line = replyText(failure);
      const tripped = await writer.write(async (sql) => {
        const t = await routeFailed(sql, route.label, line, now, breaker, atOnce);
        if (t) await appendRouteEvent(sql, "route.degraded", { route: route.label, reply: replyOf(failure), down_until: new Date(t.downUntil).toISOString(), trips: t.trips }, now);
        return t;
      });
      if (tripped) log("route_degraded", { route: route.label, reply: line, down_until: tripped.downUntil, trips: tripped.trips });
      return;
    }
    // Most sessions find the route up with no failures counted: nothing to write then.
    if (this.knownClean(route.label, now)) return;
    const h = await this.readHealth(route.label, now);
    if (!h || (h.state === "up" && h.failures === 0)) return;
    const back = await writer.write(async (sql) => {
      const b = await routeSucceeded(sql, route.label, now);
      if (b) await appendRouteEvent(sql, "route.recovered", { route: route.label }, now);
      return b;
    });
    if (back) log("route_recovered", { route: route.label });
  }
}

const replyOf = (r: RecipientResult) => ({ code: r.reply.code, enhanced: r.reply.enhanced ?? null, text: r.reply.lines.join(" ").trim() });
