/**
 * Which way mail for a recipient domain goes: the routes configured for the domain (in
 * failover order), else those for "*", else SMARTHOST_UPSTREAM. A route is direct MX or a
 * smart host URL: smtp://[user:pass@]host[:port] (STARTTLS when offered) or smtps://…
 * (implicit TLS). Query options: tls=required|none, tls_verify=false, insecure_auth=true.
 */
import { asc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { routes } from "../db/schema.ts";
import type { SmtpTarget } from "./smtp-client.ts";

export type Route = { kind: "mx" } | { kind: "relay"; label: string; target: SmtpTarget };

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

export async function routesFor(db: Db, domain: string, fallback: string): Promise<Route[]> {
  const find = (d: string) => db.select({ url: routes.url }).from(routes).where(eq(routes.domain, d)).orderBy(asc(routes.position));
  let rows = await find(domain.toLowerCase());
  if (rows.length === 0) rows = await find("*");
  const urls = rows.length > 0 ? rows.map((r) => r.url) : [fallback];
  return urls.map(parseRoute).filter((r): r is Route => r !== null);
}
