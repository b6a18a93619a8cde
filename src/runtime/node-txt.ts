/** TXT lookups on node:dns (Bun, Node, Deno), honouring SMARTHOST_DNS_SERVERS: DKIM selectors, SPF, DMARC, MTA-STS. */
import { Resolver } from "node:dns/promises";
import type { TxtLookup } from "../dkim/store.ts";

export function createTxtLookup(servers: string[]): TxtLookup {
  const r = new Resolver({ timeout: 5000, tries: 2 });
  if (servers.length > 0) r.setServers(servers);
  return (name) => r.resolveTxt(name);
}
