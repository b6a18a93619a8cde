/**
 * Before a relay route carries a message: is it up (or is this the one probe), and has it
 * quota left? After: what the answer says about the route. The delivery worker asks here
 * and moves on to the next route when the answer is no — no attempt is spent on a route
 * that is down or spent.
 */
import type { Sql } from "../db/raw.ts";
import type { GroupCommit } from "../queue/group-commit.ts";
import type { Logger } from "../smtp/session-types.ts";
import type { RecipientResult } from "../delivery/smtp-client.ts";
import { appendRouteEvent } from "./route-events.ts";
import { admit, healthOf, routeFailed, routeSucceeded, type BreakerConfig } from "./route-health.ts";
import { noQuota, takeRouteQuota, type RouteQuota } from "./route-quota.ts";

export type WaitReason = "route_down" | "route_quota";

export type Gate = { use: true; probe: boolean } | { use: false; until: number; reason: WaitReason };

export interface GatedRoute {
  label: string;
  quota?: RouteQuota;
}

const replyText = (r: RecipientResult) => `${r.reply.code}${r.reply.enhanced ? ` ${r.reply.enhanced}` : ""} ${r.reply.lines.join(" ")}`.trim();

/**
 * Refusals about our account or rate, answered by the relay itself: the next message would
 * get the same, so they take the route down at once. x.7.y (RFC 3463 §3.8: security or
 * policy status), X.4.5 (system congestion, Gmail's sending limits) and the AUTH codes of
 * RFC 4954 §6. Connection failures and other 4xx count toward the threshold instead.
 */
function aboutAccount(r: RecipientResult): boolean {
  const e = r.reply.enhanced ?? "";
  return /^[45]\.7\./.test(e) || /^[45]\.4\.5$/.test(e) || [530, 534, 535, 538].includes(r.reply.code);
}

// A route seen up with no failure counted is taken as such this long without reading its
// row again (twice per delivery otherwise). This node's own failures end it at once; a
// trip recorded by another node is seen here within this time.
const CLEAN_MEMO_MS = 1000;

export class RouteGate {
  /** Route → until when it is known up with no failure counted. */
  private readonly clean = new Map<string, number>();

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

  async admit(route: GatedRoute, now: number): Promise<Gate> {
    const health = this.knownClean(route.label, now) ? undefined : await this.readHealth(route.label, now);
    const a = health && health.state !== "up" ? await this.deps.writer.write((sql) => admit(sql, route.label, health, now, this.deps.breaker)) : { use: true as const, probe: false };
    if (!a.use) return { use: false, until: a.until, reason: "route_down" };
    if (noQuota(route.quota)) return a;
    const q = await this.deps.writer.write((sql) => takeRouteQuota(sql, route.label, route.quota!, now));
    return q.ok ? a : { use: false, until: q.resetAt, reason: "route_quota" };
  }

  /** Feeds one session's answers to the breaker: a route-scoped transient refusal is a failure, anything else a success. */
  async observe(route: GatedRoute, results: RecipientResult[], now: number): Promise<void> {
    const failure = results.find((r) => r.outcome === "transient" && r.scope === "route");
    const { writer, log, breaker } = this.deps;
    if (failure) {
      this.clean.delete(route.label);
      const line = replyText(failure);
      const tripped = await writer.write(async (sql) => {
        const t = await routeFailed(sql, route.label, line, now, breaker, aboutAccount(failure));
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
