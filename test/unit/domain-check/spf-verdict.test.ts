/**
 * SPF verdicts on the acceptance path: one lookup per domain for minutes, a bounded wait
 * for the first, a stale verdict while the next is read, nothing looked up without
 * SMARTHOST_SENDING_IPS. The resolver is a table; the clock is driven by hand.
 */
import { expect, test } from "bun:test";
import { createSpfVerdicts } from "../../../src/domain-check/spf-verdict.ts";
import type { DnsResolve } from "../../../src/domain-check/dns.ts";
import { waitFor } from "../../support/wait.ts";

function fakeDns(records: Record<string, string>) {
  const asked: string[] = [];
  let hold: Promise<void> | null = null;
  const resolve: DnsResolve = async (name, rrtype) => {
    asked.push(`${name} ${rrtype}`);
    if (hold) await hold;
    const r = records[name];
    if (rrtype !== "TXT" || r === undefined) throw Object.assign(new Error("no data"), { code: "ENODATA" });
    return [[r]];
  };
  return { resolve, asked, holdUntil: (p: Promise<void>) => (hold = p) };
}

test("pass when the record authorizes every sending address, fail when one is missing", async () => {
  const dns = fakeDns({ "good.test": "v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 -all", "half.test": "v=spf1 ip4:192.0.2.1 ~all" });
  const spf = createSpfVerdicts({ resolve: dns.resolve, sendingIps: ["192.0.2.1", "192.0.2.2"] });
  expect(await spf("good.test")).toBe("pass");
  expect(await spf("half.test")).toBe("fail");
  expect(await spf("none.test")).toBe("fail");
});

test("one lookup per domain while the verdict is fresh; after five minutes a stale one answers while it is read again", async () => {
  const dns = fakeDns({ "good.test": "v=spf1 ip4:192.0.2.1 -all" });
  let now = 0;
  const spf = createSpfVerdicts({ resolve: dns.resolve, sendingIps: ["192.0.2.1"], now: () => now });
  expect(await Promise.all([spf("good.test"), spf("GOOD.test")])).toEqual(["pass", "pass"]);
  const lookups = dns.asked.length;
  now += 4 * 60_000;
  expect(await spf("good.test")).toBe("pass");
  expect(dns.asked.length).toBe(lookups);
  now += 2 * 60_000;
  let release!: () => void;
  dns.holdUntil(new Promise<void>((r) => (release = r)));
  expect(await spf("good.test")).toBe("pass");
  expect(dns.asked.length).toBe(lookups + 1);
  release();
});

test("the first message waits at most the bound, then hears temperror; the lookup goes on for the next", async () => {
  const dns = fakeDns({ "slow.test": "v=spf1 ip4:192.0.2.1 -all" });
  let release!: () => void;
  dns.holdUntil(new Promise<void>((r) => (release = r)));
  const spf = createSpfVerdicts({ resolve: dns.resolve, sendingIps: ["192.0.2.1"], waitMs: 20 });
  expect(await spf("slow.test")).toBe("temperror");
  // Past the bound: no second wait for the same lookup.
  expect(await spf("slow.test")).toBe("temperror");
  expect(dns.asked.length).toBe(1);
  release();
  expect(await waitFor("the lookup to settle", async () => (await spf("slow.test")) === "pass")).toBe(true);
  expect(dns.asked.length).toBe(1);
});

test("without SMARTHOST_SENDING_IPS nothing is looked up", async () => {
  const dns = fakeDns({});
  const spf = createSpfVerdicts({ resolve: dns.resolve, sendingIps: [] });
  expect(await spf("any.test")).toBe("unchecked");
  expect(dns.asked).toEqual([]);
});
