/** The return-path domain's MX (`domain return-path`): its DSNs must reach this relay's inbound listener. */
import type { Sql } from "../db/raw.ts";
import { getReturnPath, returnPathMxLine } from "../return-path/store.ts";
import type { DnsResolve } from "./dns.ts";
import type { Check } from "./records.ts";

const bare = (h: string) => h.toLowerCase().replace(/\.$/, "");

/** Null when the domain has no return path (nothing to check). */
export async function checkReturnPath(resolve: DnsResolve, sql: Sql, domain: string, inboundHost: string | undefined): Promise<Check | null> {
  const rp = await getReturnPath(sql, domain);
  if (!rp) return null;
  const publish = inboundHost ? returnPathMxLine(rp.returnDomain, inboundHost) : undefined;
  let hosts: string[];
  try {
    hosts = ((await resolve(rp.returnDomain, "MX")) as { exchange: string }[]).map((r) => bare(r.exchange));
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (code !== "ENOTFOUND" && code !== "ENODATA") return { check: "return-path", ok: false, found: null, detail: `DNS lookup of ${rp.returnDomain} MX failed (${code || "error"})`, publish };
    hosts = [];
  }
  const found = hosts.length > 0 ? hosts.join(", ") : null;
  if (hosts.length === 0) return { check: "return-path", ok: false, found, detail: `b-<token>@${rp.returnDomain}: no MX record, bounces cannot come back`, publish };
  if (inboundHost && !hosts.includes(bare(inboundHost))) return { check: "return-path", ok: false, found, detail: `b-<token>@${rp.returnDomain}: the MX does not name ${bare(inboundHost)}`, publish };
  return { check: "return-path", ok: true, found, detail: `b-<token>@${rp.returnDomain}: bounces come back here` };
}
