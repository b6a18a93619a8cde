/** Delivery routes: `smarthost route add DOMAIN|* URL` (several URLs for one domain = failover in order). */
import { eq, max } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { routes } from "../db/schema.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import { sealRouteUrl } from "../secrets/route-passwords.ts";
import { isDomain } from "../smtp/address.ts";
import { Failure } from "../core/failure.ts";

/** "mx", or smtp(s)://[user:pass@]host:port — checked here so delivery never meets a bad one. */
export function validRouteUrl(url: string): boolean {
  if (url === "mx") return true;
  try {
    const u = new URL(url);
    // A password needs the user name it goes with (RFC 4616 sends both).
    const credentialsWhole = u.password === "" || u.username !== "";
    return (u.protocol === "smtp:" || u.protocol === "smtps:") && u.hostname !== "" && (u.pathname === "" || u.pathname === "/") && credentialsWhole;
  } catch {
    return false;
  }
}

/**
 * A route as it is stored: domain lower-cased, URL checked, its password taken out and
 * sealed. A bad URL's error never repeats the URL: it may hold a password.
 */
export async function routeRow(secrets: SecretBox, domainArg: string, url: string): Promise<{ domain: string; url: string; secret: string | null }> {
  const domain = domainArg.toLowerCase();
  if (domain !== "*" && !isDomain(domain, true)) throw new Failure("invalid", `"${domainArg}" is not a domain or *`);
  if (!validRouteUrl(url)) throw new Failure("invalid", "not a route URL: use mx, smtp://[user:pass@]host:port or smtps://… (the value is not repeated here: it may hold a password)");
  return { domain, ...(await sealRouteUrl(secrets, domain, url)) };
}

/** A provider plan's quota; absent fields are left as they are (on add: none). */
export interface QuotaInput {
  perSecond?: number | null;
  perMinute?: number | null;
  perDay?: number | null;
}

function checkQuota(q: QuotaInput): void {
  for (const [k, v] of Object.entries(q)) {
    if (v !== undefined && v !== null && (!Number.isSafeInteger(v) || v < 1)) throw new Failure("invalid", `${k.replace(/[A-Z]/, (c) => `-${c.toLowerCase()}`)} must be a whole number of at least 1`);
  }
}

export async function addRoute(db: Db, secrets: SecretBox, domainArg: string, url: string, quota: QuotaInput = {}): Promise<number> {
  checkQuota(quota);
  const row = await routeRow(secrets, domainArg, url);
  const [last] = await db.select({ last: max(routes.position) }).from(routes).where(eq(routes.domain, row.domain));
  const position = (last?.last ?? -1) + 1;
  await db.insert(routes).values({ ...row, position, perSecond: quota.perSecond ?? null, perMinute: quota.perMinute ?? null, perDay: quota.perDay ?? null });
  return position;
}

/** Changes the quota of the route at `position` of `domain` (see route-list.ts for finding it by URL). */
export async function setRouteQuota(db: Db, id: number, quota: QuotaInput): Promise<void> {
  checkQuota(quota);
  const set = Object.fromEntries(Object.entries(quota).filter(([, v]) => v !== undefined));
  if (Object.keys(set).length === 0) throw new Failure("invalid", "nothing to change: give --per-second, --per-minute or --per-day");
  await db.update(routes).set(set).where(eq(routes.id, id));
}
