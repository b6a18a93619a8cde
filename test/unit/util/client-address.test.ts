import { expect, test } from "bun:test";
import { loadConfig } from "../../../src/config.ts";
import { clientEnv, forwardedTls, parseTrustedProxies, resolveClientAddress, type TrustedProxies } from "../../../src/util/client-address.ts";

const proxies = (list: string): TrustedProxies => {
  const parsed = parseTrustedProxies(list);
  if (!parsed.ok) throw new Error(`bad test list: ${parsed.bad}`);
  return parsed.proxies;
};

const LB = "10.0.0.0/8, 2001:db8:ffff::/48, 192.0.2.7";

// [behaviour, connecting peer, X-Forwarded-For, SMARTHOST_TRUSTED_PROXIES, client]
const CASES: [string, string | null, string | null, string, string | null][] = [
  ["no proxies trusted: the peer, whatever the header says", "203.0.113.5", "198.51.100.1", "", "203.0.113.5"],
  ["an untrusted peer's header is ignored", "203.0.113.5", "198.51.100.1", LB, "203.0.113.5"],
  ["a trusted peer: the address it appended", "10.1.2.3", "198.51.100.1", LB, "198.51.100.1"],
  ["a client's forged elements left of the proxy's are not believed", "10.1.2.3", "1.1.1.1, 8.8.8.8, 198.51.100.1", LB, "198.51.100.1"],
  ["two trusted hops are walked past, right to left", "10.1.2.3", "1.1.1.1, 198.51.100.1, 10.9.9.9, 192.0.2.7", LB, "198.51.100.1"],
  ["a bare address in the list is one host", "192.0.2.7", "198.51.100.1", LB, "198.51.100.1"],
  ["its neighbour is not trusted", "192.0.2.8", "198.51.100.1", LB, "192.0.2.8"],
  ["a trusted peer without the header is the client", "10.1.2.3", null, LB, "10.1.2.3"],
  ["every hop trusted: the furthest one", "10.1.2.3", "10.7.7.7, 10.8.8.8", LB, "10.7.7.7"],
  ["IPv6 proxy and client", "2001:db8:ffff:1::9", "2001:db8:1::42", LB, "2001:db8:1::42"],
  ["IPv4-mapped peer matches an IPv4 network", "::ffff:10.1.2.3", "198.51.100.1", LB, "198.51.100.1"],
  ["IPv4-mapped client is written as IPv4", "::ffff:203.0.113.5", null, "", "203.0.113.5"],
  ["an element with a port", "10.1.2.3", "198.51.100.1:4711", LB, "198.51.100.1"],
  ["a bracketed IPv6 element with a port", "10.1.2.3", "[2001:db8:1::42]:4711", LB, "2001:db8:1::42"],
  ["a garbage element where the chain must be read: unknown", "10.1.2.3", "1.1.1.1, not-an-ip", LB, null],
  ["garbage beyond the first untrusted element is never read", "10.1.2.3", "not-an-ip, 198.51.100.1", LB, "198.51.100.1"],
  ["a loose IPv4 spelling in the header is not an address", "10.1.2.3", "127.1", LB, null],
  ["no peer: unknown, and the header is not believed", null, "198.51.100.1", LB, null],
];

for (const [name, peer, xff, list, client] of CASES) {
  test(`client address: ${name}`, () => {
    expect(resolveClientAddress(peer, xff, proxies(list))).toBe(client);
  });
}

test("clientEnv reads X-Forwarded-For from the request, several header lines as one list", () => {
  const headers = new Headers();
  headers.append("x-forwarded-for", "1.1.1.1");
  headers.append("x-forwarded-for", "198.51.100.1");
  expect(clientEnv(new Request("http://x/", { headers }), "10.1.2.3", proxies(LB))).toEqual({ clientAddress: "198.51.100.1" });
  expect(clientEnv(new Request("http://x/", { headers }), "10.1.2.3", [])).toEqual({ clientAddress: "10.1.2.3" });
});

test("X-Forwarded-Proto is believed from a trusted peer only, its right-most element", () => {
  const lb = proxies(LB);
  expect(forwardedTls("10.1.2.3", "https", lb)).toBe(true);
  expect(forwardedTls("10.1.2.3", "HTTP", lb)).toBe(false);
  // The element the trusted peer wrote is the last: what came before is the client's.
  expect(forwardedTls("10.1.2.3", "https, http", lb)).toBe(false);
  expect(forwardedTls("203.0.113.9", "https", lb)).toBeNull();
  expect(forwardedTls("10.1.2.3", null, lb)).toBeNull();
  expect(forwardedTls("10.1.2.3", "gopher", lb)).toBeNull();
  const headers = new Headers({ "x-forwarded-for": "198.51.100.1", "x-forwarded-proto": "https" });
  expect(clientEnv(new Request("http://x/", { headers }), "10.1.2.3", lb)).toEqual({ clientAddress: "198.51.100.1", clientTls: true });
  expect(clientEnv(new Request("http://x/", { headers }), "10.1.2.3", [])).toEqual({ clientAddress: "10.1.2.3" });
});

test("SMARTHOST_TRUSTED_PROXIES: none by default, CIDRs and addresses parsed at start", () => {
  expect(loadConfig({}).SMARTHOST_TRUSTED_PROXIES).toEqual([]);
  const list = loadConfig({ SMARTHOST_TRUSTED_PROXIES: "10.0.0.0/8, ::1" }).SMARTHOST_TRUSTED_PROXIES;
  expect(list.map(([a, bits]) => `${a.toString()}/${bits}`)).toEqual(["10.0.0.0/8", "::1/128"]);
});

test("SMARTHOST_TRUSTED_PROXIES refuses what is not a network, naming the entry", () => {
  for (const bad of ["10.0.0.0/33", "proxy.internal", "10.0.0.0/8/1", "2001:db8::/129", "10.0.0.0/x", "127.1"]) {
    let message = "";
    try {
      loadConfig({ SMARTHOST_TRUSTED_PROXIES: `192.0.2.1, ${bad}` });
    } catch (err) {
      expect(err).toMatchObject({ kind: "config" });
      message = (err as Error).message;
    }
    expect(message).toContain(`SMARTHOST_TRUSTED_PROXIES: "${bad}" is not a comma-separated list of CIDRs`);
  }
});
