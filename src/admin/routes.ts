/** Delivery routes: `smarthost route add DOMAIN|* URL` (several URLs for one domain = failover in order). */
import { eq, max } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { routes } from "../db/schema.ts";
import { isDomain } from "../smtp/address.ts";
import { AdminError } from "./errors.ts";

/** "mx", or smtp(s)://[user:pass@]host:port — checked here so delivery never meets a bad one. */
export function validRouteUrl(url: string): boolean {
  if (url === "mx") return true;
  try {
    const u = new URL(url);
    return (u.protocol === "smtp:" || u.protocol === "smtps:") && u.hostname !== "" && (u.pathname === "" || u.pathname === "/");
  } catch {
    return false;
  }
}

export async function addRoute(db: Db, domainArg: string, url: string): Promise<number> {
  const domain = domainArg.toLowerCase();
  if (domain !== "*" && !isDomain(domain, true)) throw new AdminError(`"${domainArg}" is not a domain or *`);
  if (!validRouteUrl(url)) throw new AdminError(`"${url}" is not a route: use mx, smtp://[user:pass@]host:port or smtps://…`);
  const [row] = await db.select({ last: max(routes.position) }).from(routes).where(eq(routes.domain, domain));
  const position = (row?.last ?? -1) + 1;
  await db.insert(routes).values({ domain, url, position });
  return position;
}
