/** Trusted client networks (CIDR), matched with ipaddr.js. */
import ipaddr from "ipaddr.js";

/** "192.0.2.7" → "192.0.2.7/32"; "2001:db8::/32" stays; null when not a network. */
export function normalizeCidr(input: string): string | null {
  const s = input.trim();
  try {
    const [addr, bits] = s.includes("/") ? ipaddr.parseCIDR(s) : [ipaddr.parse(s), ipaddr.parse(s).kind() === "ipv4" ? 32 : 128];
    return `${addr.toString()}/${bits}`;
  } catch {
    return null;
  }
}

export function matchNetwork<T extends { cidr: string }>(networks: readonly T[], ip: string): T | null {
  if (!ipaddr.isValid(ip)) return null;
  let addr = ipaddr.parse(ip);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  for (const n of networks) {
    const [net, bits] = ipaddr.parseCIDR(n.cidr);
    if (net.kind() === addr.kind() && addr.match(net, bits)) return n;
  }
  return null;
}
