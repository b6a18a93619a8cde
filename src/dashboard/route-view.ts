/**
 * A route's health as the dashboard shows it. The breaker (shaping/route-health.ts) leaves a
 * route `down` in the database after its backoff is over, until the next message to it
 * claims the probe: from `down_until` on it is open again, so it is shown as `reopened`
 * (the next message tries it), never as down.
 */
import type { RouteListed } from "../admin/route-list.ts";
import type { Health } from "../shaping/route-health.ts";

export type ShownHealth = Health | "reopened";

export interface RouteShown extends Omit<RouteListed, "health"> {
  health: ShownHealth | null;
}

export function routesAsShown(rows: RouteListed[], now: number): RouteShown[] {
  return rows.map((r) => (r.health === "down" && r.down_until !== null && Date.parse(r.down_until) <= now ? { ...r, health: "reopened" } : r));
}
