/** DNS lookups on node:dns (Bun, Node, Deno), honouring SMARTHOST_DNS_SERVERS: DKIM selectors, SPF, DMARC, MTA-STS, TLS-RPT. */
import { Resolver } from "node:dns/promises";
import type { DnsResolve } from "../domain-check/dns.ts";

// A TXT character-string holds at most 255 octets (RFC 1035 §3.3), so a long record (a
// 2048-bit DKIM key) is one record of several strings.
const MAX_STRING = 255;

/**
 * Bun's node:dns returns each character-string of a TXT record as a record of its own
 * (oven-sh/bun#21370), so a DKIM key comes back cut in two. Strings that continue a
 * 255-octet one are put back into its record: publishers and the `dkim add` output split
 * long values at 255.
 */
export function rejoinSplitTxt(records: string[][]): string[][] {
  const out: string[][] = [];
  for (const r of records) {
    const last = out.at(-1);
    if (last && last.at(-1)?.length === MAX_STRING) last.push(...r);
    else out.push([...r]);
  }
  return out;
}

const splitsTxt = typeof process !== "undefined" && typeof process.versions?.bun === "string";

export function createDnsResolve(servers: string[]): DnsResolve {
  const r = new Resolver({ timeout: 5000, tries: 2 });
  if (servers.length > 0) r.setServers(servers);
  return async (name, rrtype) => {
    const answer = (await r.resolve(name, rrtype)) as unknown[];
    return rrtype === "TXT" && splitsTxt ? rejoinSplitTxt(answer as string[][]) : answer;
  };
}
