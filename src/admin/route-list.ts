/**
 * `route list|remove` and the one way a route URL is shown: credentials masked. Kept apart
 * from `addRoute` (routes.ts), which owns how a route is stored.
 */
import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { routes } from "../db/schema.ts";
import { validRouteUrl } from "./routes.ts";
import { parseRoute } from "../delivery/routing.ts";
import { listRouteHealth, type Health } from "../shaping/route-health.ts";
import { Failure } from "../core/failure.ts";

/**
 * The URL with user and password replaced by `***`. Parsed with URL, never matched with a
 * pattern: a password may hold `@`, `:` or `/` (percent-encoded or not), and whatever it
 * holds, nothing of it is shown. What does not parse is not shown at all.
 */
export function maskRouteUrl(url: string): string {
  if (url === "mx") return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "(unreadable route)";
  }
  // A path means an unencoded "/" cut the URL short, perhaps inside the password: the
  // host and path may be pieces of it, so none of it is shown (such a route is refused).
  if (u.pathname !== "" && u.pathname !== "/") return "(unreadable route)";
  const auth = u.username !== "" || u.password !== "" ? "***@" : "";
  return `${u.protocol}//${auth}${u.host}${u.search}`;
}

/** The URL checked before it is stored, with an error that shows it masked only. */
export function checkRouteUrl(url: string): void {
  if (!validRouteUrl(url)) throw new Failure("invalid", `"${maskRouteUrl(url)}" is not a route: use mx, smtp://[user:pass@]host:port or smtps://…`);
}

export interface RouteRow {
  domain: string;
  position: number;
  url: string;
}

export interface RouteListed extends RouteRow {
  /** The provider plan's quota (null: none). */
  per_second: number | null;
  per_minute: number | null;
  per_day: number | null;
  /** The circuit breaker's state (src/shaping/route-health.ts) as shown; direct MX has none. */
  health: ShownHealth | null;
  /** While down: when one probe may try it again (ISO 8601). */
  down_until: string | null;
}

/**
 * The breaker leaves a route `down` in the database after its backoff is over, until the
 * next message to it claims the probe: from `down_until` on it is open again, so it is
 * shown as `reopened` (the next message tries it), never as down.
 */
export type ShownHealth = Health | "reopened";

const shown = (state: Health, downUntil: number | null, now: number): ShownHealth => (state === "down" && downUntil !== null && downUntil <= now ? "reopened" : state);

export async function listRoutes(db: Db, now = Date.now()): Promise<RouteListed[]> {
  const rows = await db.select().from(routes).orderBy(asc(routes.domain), asc(routes.position));
  const health = new Map((await listRouteHealth(db.$client)).map((h) => [h.route, h]));
  return rows.map((r) => {
    const parsed = parseRoute(r.url);
    const h = parsed?.kind === "relay" ? (health.get(parsed.label) ?? null) : null;
    return {
      domain: r.domain,
      position: r.position,
      url: maskRouteUrl(r.url),
      per_second: r.perSecond,
      per_minute: r.perMinute,
      per_day: r.perDay,
      health: parsed?.kind === "relay" ? (h ? shown(h.state, h.down_until, now) : "up") : null,
      down_until: h?.down_until ? new Date(h.down_until).toISOString() : null,
    };
  });
}

/**
 * Removes the route of `domain` given by its URL, either as added or as `route list`
 * shows it (masked), so an operator need not type the password again. Delivery re-reads
 * routes every few seconds (delivery/worker.ts), so the route stops being used then.
 */
export async function removeRoute(db: Db, domainArg: string, url: string): Promise<RouteRemoved> {
  const domain = domainArg.toLowerCase();
  const hit = await findRoute(db, domain, url);
  await db.delete(routes).where(and(eq(routes.id, hit.id)));
  return { domain, position: hit.position, url: maskRouteUrl(hit.url), ...(await whatFollows(db, domain)) };
}

/** The route of `domain` given by its URL, as added or as listed (masked). */
export async function findRoute(db: Db, domainArg: string, url: string): Promise<typeof routes.$inferSelect> {
  const domain = domainArg.toLowerCase();
  const rows = await db.select().from(routes).where(eq(routes.domain, domain)).orderBy(asc(routes.position));
  // Compared masked on both sides: a row may keep its password in the URL or apart from it.
  const hits = rows.filter((r) => r.url === url || maskRouteUrl(r.url) === maskRouteUrl(url));
  if (hits.length === 0) throw new Failure("not-found", `no route for ${domain} to ${maskRouteUrl(url)}`);
  if (hits.length > 1) throw new Failure("conflict", `${hits.length} routes for ${domain} look like ${maskRouteUrl(url)}: give the URL as added`);
  return hits[0]!;
}

export interface RouteRemoved extends RouteRow {
  /** Recipients still to deliver that this route served. */
  queued: number;
  /** Where they go now. */
  now_via: string;
}

/** After a removal: the queued mail it concerned, and the way that mail goes now. */
async function whatFollows(db: Db, domain: string): Promise<{ queued: number; now_via: string }> {
  const pending = "state IN ('queued', 'deferred', 'held')";
  const rs =
    domain === "*"
      ? await db.$client.execute(`SELECT count(*) AS n FROM recipients WHERE ${pending} AND domain NOT IN (SELECT domain FROM routes)`)
      : await db.$client.execute({ sql: `SELECT count(*) AS n FROM recipients WHERE ${pending} AND domain = ?`, args: [domain] });
  const next = async (d: string) => (await db.select({ url: routes.url }).from(routes).where(eq(routes.domain, d)).orderBy(asc(routes.position)).limit(1))[0];
  const own = domain === "*" ? undefined : await next(domain);
  const star = own ? undefined : await next("*");
  const via = own ? `${domain} -> ${maskRouteUrl(own.url)}` : star ? `* -> ${maskRouteUrl(star.url)}` : "SMARTHOST_UPSTREAM";
  return { queued: Number(rs.rows[0]?.n ?? 0), now_via: via };
}
