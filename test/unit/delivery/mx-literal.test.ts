/** Address literals (RFC 5321 §4.1.3) in delivery: the address itself, behind the same guard as MX addresses. */
import { describe, expect, test } from "bun:test";
import { mxHostsFor, type Resolver } from "../../../src/delivery/mx.ts";
import { isAddressLiteral, literalAddress } from "../../../src/smtp/address.ts";

// Any DNS question is a failure here: a literal must never be looked up.
const noDns: Resolver = {
  resolveMx: () => Promise.reject(Object.assign(new Error("asked"), { code: "ENOTFOUND" })),
  resolve4: () => Promise.reject(Object.assign(new Error("asked"), { code: "ENOTFOUND" })),
  resolve6: () => Promise.reject(Object.assign(new Error("asked"), { code: "ENOTFOUND" })),
};

describe("address literals", () => {
  test("[IPv6:…] in any case (domains are lower-cased in the queue) is that address", async () => {
    for (const domain of ["[IPv6:::1]", "[ipv6:::1]", "[IPV6:0:0:0:0:0:0:0:1]"]) {
      const got = await mxHostsFor(domain, noDns, true);
      expect(got).toMatchObject({ ok: true, hosts: [{ address: domain.slice(6, -1) }] });
    }
  });

  test("without the switch an IPv6 literal meets the address guard, like an IPv4 one", async () => {
    for (const [domain, ip] of [["[ipv6:2001:db8::1]", "2001:db8::1"], ["[ipv6:fe80::1]", "fe80::1"], ["[127.0.0.1]", "127.0.0.1"]] as const) {
      const got = await mxHostsFor(domain, noDns, false);
      expect(got).toEqual({ ok: false, outcome: "permanent", enhanced: "5.4.4", reason: `MX for ${domain} resolves only to non-public addresses (${ip}); refused` });
    }
  });

  test("literal syntax: ipaddr.js, no zone index, IPv4 in four decimal parts", () => {
    expect(literalAddress("[IPv6:2001:db8::192.0.2.1]")).toBe("2001:db8::192.0.2.1");
    expect(literalAddress("[192.0.2.1]")).toBe("192.0.2.1");
    for (const bad of ["[IPv6:fe80::1%eth0]", "[IPv6:1::2::3]", "[IPv6:1:2:3:4:5:6:7:8:9]", "[0x7f.0.0.1]", "[256.1.1.1]", "[2001:db8::1]", "example.com"]) {
      expect(literalAddress(bad)).toBeNull();
    }
    expect(isAddressLiteral("[IPv6:fe80::1%eth0]")).toBe(false);
    expect(isAddressLiteral("[x-tag:anything]")).toBe(true);
  });
});
