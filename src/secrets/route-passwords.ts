/**
 * Route passwords at rest: a route row keeps its URL without the password
 * (`smtp://user@host:port`) and the password sealed beside it (`routes.secret`), bound to
 * the route's domain and URL so a sealed value copied to another route does not open.
 * The password is opened only by delivery, when it builds the route to connect through.
 */
import { and, eq, isNull, like } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { routes } from "../db/schema.ts";
import type { SecretBox } from "./cipher.ts";
import { Failure } from "../core/failure.ts";

export interface SplitRouteUrl {
  /** The URL as stored: no password. */
  url: string;
  /** The password (decoded), or null when the URL has none. */
  password: string | null;
}

/** What a sealed route password is bound to. */
export const routePurpose = (domain: string, storedUrl: string): string => `route:${domain}:${storedUrl}`;

/**
 * Takes the password out of a route URL, changing nothing else in it; "mx" and URLs
 * without one come back as they are. The authority ends at the first "/", "?" or "#" and
 * the user information at its last "@" (as URL parsers read it, RFC 3986 §3.2).
 */
export function splitRoutePassword(url: string): SplitRouteUrl {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!m) return { url, password: null };
  const [, scheme, authority, rest] = m as unknown as [string, string, string, string];
  const at = authority.lastIndexOf("@");
  const colon = authority.slice(0, Math.max(at, 0)).indexOf(":");
  if (at < 0 || colon < 0) return { url, password: null };
  const raw = authority.slice(colon + 1, at);
  const stripped = scheme + authority.slice(0, colon) + authority.slice(at) + rest;
  return { url: stripped, password: raw === "" ? null : decodePart(raw) };
}

/** The URL to show (command output): credentials, when there is a password, as `***`. */
export function maskRoutePassword(url: string): string {
  if (splitRoutePassword(url).password === null) return url;
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url)!;
  return `${m[1]}***${m[2]!.slice(m[2]!.lastIndexOf("@"))}${m[3]}`;
}

function decodePart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The columns of a new route row: the URL without its password and the password sealed. */
export async function sealRouteUrl(secrets: SecretBox, domain: string, url: string): Promise<{ url: string; secret: string | null }> {
  const split = splitRoutePassword(url);
  if (split.password === null) return { url: split.url, secret: null };
  return { url: split.url, secret: await secrets.seal(split.password, routePurpose(domain, split.url)) };
}

/** Opens a route row's sealed password (delivery only). */
export async function openRoutePassword(secrets: SecretBox | undefined, row: { domain: string; url: string; secret: string }): Promise<string> {
  if (!secrets) throw new Failure("config", `the route for ${row.domain} has a sealed password and this node has no SMARTHOST_SECRET_KEY`, { code: "route_password" });
  try {
    return await secrets.open(row.secret, routePurpose(row.domain, row.url));
  } catch {
    throw new Failure("config", `the password of the route for ${row.domain} does not open with this node's SMARTHOST_SECRET_KEY (every node sharing the database needs the same key)`, { code: "route_password" });
  }
}


/**
 * Data fix-up, at every open after the migrations: routes written before passwords were
 * sealed carry theirs in the URL. Each one is rewritten (URL without the password, sealed
 * password) once; a row another process rewrote meanwhile is left alone (`url` no longer
 * matches). Returns how many rows were sealed now.
 */
export async function sealClearRoutePasswords(db: Db, secrets: SecretBox): Promise<number> {
  const rows = await db
    .select({ id: routes.id, domain: routes.domain, url: routes.url })
    .from(routes)
    .where(and(isNull(routes.secret), like(routes.url, "%@%")));
  let sealed = 0;
  for (const row of rows) {
    const next = await sealRouteUrl(secrets, row.domain, row.url);
    if (next.secret === null) continue;
    const done = await db
      .update(routes)
      .set(next)
      .where(and(eq(routes.id, row.id), eq(routes.url, row.url), isNull(routes.secret)))
      .returning({ id: routes.id });
    sealed += done.length;
  }
  return sealed;
}
