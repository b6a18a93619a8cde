/** `smarthost domain return-path …`, and the same over the admin API. */
import type { Sql } from "../db/raw.ts";
import { listReturnPaths, removeReturnPath, returnPathDomain, returnPathMxLine, setReturnPath } from "../return-path/store.ts";
import { Failure } from "../core/failure.ts";

export interface ReturnPathRow {
  domain: string;
  return_domain: string;
  /** The MX record to publish: the return-path domain's mail comes to the inbound listener. */
  mx: string;
  created_at: string;
}

const rowOf = (r: { domain: string; returnDomain: string; createdAt: number }, inboundHost: string): ReturnPathRow => ({
  domain: r.domain,
  return_domain: r.returnDomain,
  mx: returnPathMxLine(r.returnDomain, inboundHost),
  created_at: new Date(r.createdAt).toISOString(),
});

/** `inboundHost`: the name the MX record points at (SMARTHOST_HOSTNAME, where the inbound listener answers). */
export async function addReturnPath(sql: Sql, domain: string, returnDomain: string, inboundHost: string): Promise<ReturnPathRow> {
  return rowOf(await setReturnPath(sql, domain, returnDomain, Date.now()), inboundHost);
}

export async function returnPathRows(sql: Sql, inboundHost: string): Promise<ReturnPathRow[]> {
  return (await listReturnPaths(sql)).map((r) => rowOf(r, inboundHost));
}

export async function dropReturnPath(sql: Sql, domain: string): Promise<void> {
  if (!(await removeReturnPath(sql, domain))) throw new Failure("not-found", `no return path for ${returnPathDomain(domain, "DOMAIN")}`);
}
