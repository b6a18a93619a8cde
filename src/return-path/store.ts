/**
 * Return-path domains (`domain return-path DOMAIN RPDOMAIN`): which sender domains leave
 * with a VERP envelope sender, and at which domain their DSNs come back.
 */
import type { Sql } from "../db/raw.ts";
import { placeholders } from "../db/raw.ts";
import { isDomain } from "../smtp/address.ts";
import { Failure } from "../core/failure.ts";

export interface ReturnPath {
  domain: string;
  returnDomain: string;
  createdAt: number;
}

/** A domain name as stored: lower-case, no trailing dot; a Failure naming the argument otherwise. */
export function returnPathDomain(arg: string, what: string): string {
  const d = arg.trim().toLowerCase().replace(/\.$/, "");
  if (!isDomain(d, false) || !d.includes(".")) throw new Failure("invalid", `${what} "${arg.slice(0, 100)}" is not a domain name`);
  return d;
}

/** Sets (or changes) the return-path domain of a sender domain. */
export async function setReturnPath(sql: Sql, domainArg: string, returnArg: string, now: number): Promise<ReturnPath> {
  const domain = returnPathDomain(domainArg, "DOMAIN");
  const returnDomain = returnPathDomain(returnArg, "RPDOMAIN");
  await sql.execute({
    sql: "INSERT INTO return_paths (domain, return_domain, created_at) VALUES (?, ?, ?) ON CONFLICT (domain) DO UPDATE SET return_domain = excluded.return_domain",
    args: [domain, returnDomain, now],
  });
  return (await getReturnPath(sql, domain))!;
}

export async function removeReturnPath(sql: Sql, domainArg: string): Promise<boolean> {
  const rs = await sql.execute({ sql: "DELETE FROM return_paths WHERE domain = ? RETURNING domain", args: [returnPathDomain(domainArg, "DOMAIN")] });
  return rs.rows.length > 0;
}

const rowOf = (r: Record<string, unknown>): ReturnPath => ({ domain: String(r.domain), returnDomain: String(r.return_domain), createdAt: Number(r.created_at) });

export async function getReturnPath(sql: Sql, domain: string): Promise<ReturnPath | null> {
  const rs = await sql.execute({ sql: "SELECT domain, return_domain, created_at FROM return_paths WHERE domain = ?", args: [domain.toLowerCase()] });
  return rs.rows[0] ? rowOf(rs.rows[0]) : null;
}

export async function listReturnPaths(sql: Sql): Promise<ReturnPath[]> {
  const rs = await sql.execute("SELECT domain, return_domain, created_at FROM return_paths ORDER BY domain");
  return rs.rows.map(rowOf);
}

/** The return-path domains in use (the inbound listener takes tokens at these only). */
export async function returnDomains(sql: Sql): Promise<Set<string>> {
  const rs = await sql.execute("SELECT DISTINCT return_domain FROM return_paths");
  return new Set(rs.rows.map((r) => String(r.return_domain)));
}

/** The first of these sender domains that has a return path, with it. */
export async function returnPathOf(sql: Sql, domains: string[]): Promise<string | null> {
  const wanted = [...new Set(domains.map((d) => d.toLowerCase()))];
  if (wanted.length === 0) return null;
  const rs = await sql.execute({ sql: `SELECT domain, return_domain FROM return_paths WHERE domain IN (${placeholders(wanted.length)})`, args: wanted });
  const by = new Map(rs.rows.map((r) => [String(r.domain), String(r.return_domain)]));
  for (const d of wanted) {
    const hit = by.get(d);
    if (hit) return hit;
  }
  return null;
}

/** The MX record to publish for a return-path domain: its mail comes to this relay's inbound listener. */
export const returnPathMxLine = (returnDomain: string, inboundHost: string): string => `${returnDomain}. IN MX 10 ${inboundHost.replace(/\.$/, "")}.`;
