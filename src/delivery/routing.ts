/**
 * Which way mail for a recipient domain goes: the routes configured for the domain (in
 * failover order), else those for "*", else SMARTHOST_UPSTREAM. A route is direct MX or a
 * smart host URL: smtp://[user:pass@]host[:port] (STARTTLS when offered) or smtps://…
 * (implicit TLS). Query options: tls=required|none, tls_verify=false, insecure_auth=true.
 */
import { asc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { routes } from "../db/schema.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import { openRoutePassword } from "../secrets/route-passwords.ts";
import type { RouteQuota } from "../shaping/route-quota.ts";
import type { SmtpTarget } from "./smtp-client.ts";

/** A relay's label (`smtp://host:port`) also keys its health and quota counters (src/shaping/). */
export type Route = { kind: "mx" } | { kind: "relay"; label: string; target: SmtpTarget; quota?: RouteQuota };

export function parseRoute(url: string): Route | null {
  if (url === "mx") return { kind: "mx" };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if ((u.protocol !== "smtp:" && u.protocol !== "smtps:") || !u.hostname) return null;
  const implicit = u.protocol === "smtps:";
  const q = u.searchParams;
  const tls = implicit ? "implicit" : q.get("tls") === "required" ? "starttls-required" : q.get("tls") === "none" ? "none" : "starttls-opportunistic";
  const hostname = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const target: SmtpTarget = {
    hostname,
    port: u.port ? Number(u.port) : implicit ? 465 : 25,
    tls,
    verifyTls: q.get("tls_verify") !== "false",
    relay: true,
    allowPlaintextAuth: q.get("insecure_auth") === "true",
    auth: u.username ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : undefined,
  };
  // The label names the route in logs and events; never the credentials.
  return { kind: "relay", label: `${u.protocol}//${u.host}`, target };
}

/**
 * The routes for a recipient domain, sealed passwords opened (the only place they are).
 * A password that does not open stops the lookup with a Failure (config, route_password): sending
 * elsewhere (or without AUTH) would be wrong, and the recipients stay queued.
 */
export async function routesFor(db: Db, domain: string, fallback: string, secrets?: SecretBox): Promise<Route[]> {
  const find = (d: string) =>
    db.select({ domain: routes.domain, url: routes.url, secret: routes.secret, perSecond: routes.perSecond, perMinute: routes.perMinute, perDay: routes.perDay }).from(routes).where(eq(routes.domain, d)).orderBy(asc(routes.position));
  let rows = await find(domain.toLowerCase());
  if (rows.length === 0) rows = await find("*");
  if (rows.length === 0) return [parseRoute(fallback)].filter((r): r is Route => r !== null);
  const out: Route[] = [];
  for (const row of rows) {
    const route = parseRoute(row.url);
    if (!route) continue;
    if (row.secret !== null && route.kind === "relay") {
      const password = await openRoutePassword(secrets, { domain: row.domain, url: row.url, secret: row.secret });
      route.target = { ...route.target, auth: { username: route.target.auth?.username ?? "", password } };
    }
    if (route.kind === "relay") route.quota = { perSecond: row.perSecond, perMinute: row.perMinute, perDay: row.perDay };
    out.push(route);
  }
  return out;
}
