/** The MX resolver on node:dns (Bun, Node, Deno), honouring SMARTHOST_DNS_SERVERS. */
import { Resolver as DnsResolver } from "node:dns/promises";
import type { Resolver } from "../delivery/mx.ts";

export function createResolver(servers: string[]): Resolver {
  const r = new DnsResolver({ timeout: 5000, tries: 2 });
  if (servers.length > 0) r.setServers(servers);
  return {
    resolveMx: (d) => r.resolveMx(d),
    resolve4: (h) => r.resolve4(h),
    resolve6: (h) => r.resolve6(h),
  };
}
