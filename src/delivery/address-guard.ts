/**
 * No SSRF through MX records: addresses that are loopback, private, link-local,
 * unspecified, multicast or otherwise not public unicast are never connected to for MX
 * delivery (unless SMARTHOST_ALLOW_PRIVATE_MX, for tests).
 */
import ipaddr from "ipaddr.js";

export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  let addr = ipaddr.parse(ip);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  return addr.range() === "unicast";
}
