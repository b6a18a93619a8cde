/**
 * Which webhook URLs are refused for pointing into the relay's own network, as a table:
 * every spelling of loopback, private and otherwise non-public addresses, including IPv6
 * forms that carry an IPv4 address inside, and the public ones that must still pass.
 */
import { describe, expect, test } from "bun:test";
import { checkDestination, checkWebhookUrl, isPublicDestination } from "../../../src/webhooks/destination.ts";
import { Failure } from "../../../src/core/failure.ts";

// [host as written in the URL, why it is refused]
const REFUSED: [string, string][] = [
  ["127.0.0.1", "IPv4 loopback"],
  ["127.1", "IPv4 loopback, short form"],
  ["0x7f.0.0.1", "IPv4 loopback, hex octet"],
  ["0177.0.0.1", "IPv4 loopback, octal octet"],
  ["2130706433", "IPv4 loopback as one number"],
  ["0x7f000001", "IPv4 loopback as one hex number"],
  ["127.255.255.254", "the rest of 127/8"],
  ["0.0.0.0", "unspecified"],
  ["0", "unspecified as one number"],
  ["10.0.0.1", "RFC 1918"],
  ["172.16.5.4", "RFC 1918"],
  ["192.168.1.1", "RFC 1918"],
  ["169.254.169.254", "link-local (cloud metadata)"],
  ["100.64.0.1", "carrier-grade NAT"],
  ["192.0.2.1", "documentation"],
  ["224.0.0.1", "multicast"],
  ["255.255.255.255", "broadcast"],
  ["localhost", "loopback name"],
  ["LOCALHOST", "loopback name, upper case"],
  ["localhost.", "loopback name, absolute"],
  ["api.localhost", "a name under localhost"],
  ["[::1]", "IPv6 loopback"],
  ["[0:0:0:0:0:0:0:1]", "IPv6 loopback, written out"],
  ["[::]", "IPv6 unspecified"],
  ["[::7f00:1]", "IPv4-compatible IPv6 (RFC 4291 §2.5.5.1) of 127.0.0.1"],
  ["[::127.0.0.1]", "IPv4-compatible IPv6, dotted"],
  ["[::a9fe:a9fe]", "IPv4-compatible IPv6 of 169.254.169.254"],
  ["[::808:808]", "IPv4-compatible IPv6 of a public address: deprecated, never routed"],
  ["[::1:0:0:1]", "outside 2000::/3 (reserved)"],
  ["[::ffff:127.0.0.1]", "IPv4-mapped loopback"],
  ["[::ffff:7f00:1]", "IPv4-mapped loopback, hex"],
  ["[0:0:0:0:0:ffff:127.0.0.1]", "IPv4-mapped loopback, written out"],
  ["[::ffff:a9fe:a9fe]", "IPv4-mapped link-local"],
  ["[::ffff:0:7f00:1]", "IPv4-translated (RFC 6145)"],
  ["[64:ff9b::127.0.0.1]", "NAT64 (RFC 6052) of loopback"],
  ["[64:ff9b::a00:1]", "NAT64 of 10.0.0.1"],
  ["[64:ff9b::a9fe:a9fe]", "NAT64 of link-local"],
  ["[64:ff9b:1::a00:1]", "local-use NAT64 prefix (RFC 8215)"],
  ["[2002:7f00:1::]", "6to4 (RFC 3056) of loopback"],
  ["[2002:a00:1::1]", "6to4 of 10.0.0.1"],
  ["[2002:c0a8:101::1]", "6to4 of 192.168.1.1"],
  ["[2001:0:4136:e378:8000:63bf:80ff:fffe]", "Teredo"],
  ["[2001:db8::1]", "IPv6 documentation"],
  ["[fe80::1]", "IPv6 link-local"],
  ["[fc00::1]", "unique local"],
  ["[fd12:3456::1]", "unique local"],
  ["[fec0::1]", "site-local (deprecated)"],
  ["[ff02::1]", "IPv6 multicast"],
  ["[100::1]", "discard prefix"],
];

const ACCEPTED: [string, string][] = [
  ["hooks.example.com", "a name (its addresses are checked at each attempt)"],
  ["8.8.8.8", "public IPv4"],
  ["[2606:4700:4700::1111]", "public IPv6"],
  ["[::ffff:8.8.8.8]", "IPv4-mapped public address"],
  ["[64:ff9b::8.8.8.8]", "NAT64 of a public address"],
  ["[2002:808:808::1]", "6to4 of a public address"],
];

describe("webhook URLs when saved", () => {
  for (const [host, why] of REFUSED) {
    test(`refuses https://${host}/ (${why})`, () => {
      expect(() => checkWebhookUrl(`https://${host}/hook`, false)).toThrow(Failure);
    });
  }
  for (const [host, why] of ACCEPTED) {
    test(`accepts https://${host}/ (${why})`, () => {
      expect(checkWebhookUrl(`https://${host}/hook`, false)).toStartWith("https://");
    });
  }
  test("with SMARTHOST_ALLOW_PRIVATE_WEBHOOKS, loopback and http are allowed (tests)", () => {
    expect(checkWebhookUrl("http://127.0.0.1:8080/hook", true)).toBe("http://127.0.0.1:8080/hook");
    expect(checkWebhookUrl("https://[::7f00:1]/", true)).toBe("https://[::7f00:1]/");
  });
});

// The same judgement on what a name resolves to, before each attempt.
const RESOLVED_REFUSED = ["127.0.0.1", "::1", "::7f00:1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "2002:a00:1::1", "fe80::1%eth0", "10.1.2.3", "not an address"];
const RESOLVED_PUBLIC = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34", "64:ff9b::5db8:d822"];

describe("resolved addresses before an attempt", () => {
  for (const address of RESOLVED_REFUSED) {
    test(`${address} is not public`, () => expect(isPublicDestination(address)).toBe(false));
  }
  for (const address of RESOLVED_PUBLIC) {
    test(`${address} is public`, () => expect(isPublicDestination(address)).toBe(true));
  }

  test("one non-public address among public ones refuses the attempt, without naming it to the tenant", async () => {
    const d = await checkDestination("https://hooks.example.com/in", false, async () => ["93.184.216.34", "::7f00:1"]);
    expect(d).toEqual({ problem: "hooks.example.com resolves to a non-public address; refused", refused: ["::7f00:1"] });
  });

  test("public answers are the addresses the attempt may connect to", async () => {
    expect(await checkDestination("https://hooks.example.com/in", false, async () => ["93.184.216.34"])).toEqual({ addresses: ["93.184.216.34"] });
    expect(await checkDestination("https://[64:ff9b::8.8.8.8]/in", false, undefined)).toEqual({ addresses: ["64:ff9b::808:808"] });
  });

  test("no answer, or an empty one, is no destination", async () => {
    expect(await checkDestination("https://gone.example/in", false, async () => Promise.reject(new Error("ENOTFOUND")))).toEqual({ problem: "cannot resolve gone.example", refused: [] });
    expect(await checkDestination("https://gone.example/in", false, async () => [])).toEqual({ problem: "cannot resolve gone.example", refused: [] });
  });

  test("where the runtime cannot resolve (Workers), a name is left to its fetch", async () => {
    expect(await checkDestination("https://hooks.example.com/in", false, undefined)).toEqual({ addresses: null });
  });
});
