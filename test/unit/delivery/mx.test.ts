import { afterEach, describe, expect, spyOn, test } from "bun:test";
import { mxHostsFor, type Resolver } from "../../../src/delivery/mx.ts";

interface Zone {
  mx?: Record<string, { exchange: string; priority: number }[]>;
  a?: Record<string, string[]>;
  aaaa?: Record<string, string[]>;
  /** Names whose lookups fail with this code (as node:dns reports it). */
  fail?: Record<string, string>;
}

const dnsError = (code: string, name: string) => Object.assign(new Error(`${code} ${name}`), { code });

/** A resolver answering from a table; a name it does not hold is NXDOMAIN (ENOTFOUND). */
function resolver(zone: Zone): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const answer = <T>(kind: string, table: Record<string, T[]> | undefined, name: string): Promise<T[]> => {
    asked.push(`${kind} ${name}`);
    const failure = zone.fail?.[name];
    if (failure) return Promise.reject(dnsError(failure, name));
    const known = [zone.mx, zone.a, zone.aaaa].some((t) => t && name in t);
    if (!known) return Promise.reject(dnsError("ENOTFOUND", name));
    const rows = table?.[name];
    return rows ? Promise.resolve(rows) : Promise.reject(dnsError("ENODATA", name));
  };
  return {
    asked,
    resolveMx: (d) => answer("MX", zone.mx, d),
    resolve4: (h) => answer("A", zone.a, h),
    resolve6: (h) => answer("AAAA", zone.aaaa, h),
  };
}

const hosts = async (domain: string, zone: Zone, allowPrivate = true) => {
  const r = await mxHostsFor(domain, resolver(zone), allowPrivate);
  if (!r.ok) throw new Error(`expected hosts, got ${r.outcome} ${r.enhanced}: ${r.reason}`);
  return r.hosts.map((h) => `${h.name} ${h.address}`);
};

afterEach(() => {
  (Math.random as unknown as { mockRestore?: () => void }).mockRestore?.();
});

describe("mxHostsFor", () => {
  test("orders MX hosts by preference, lowest first, whatever order DNS gives them in", async () => {
    const zone: Zone = {
      mx: { "dest.test": [{ exchange: "mx30.dest.test", priority: 30 }, { exchange: "mx10.dest.test", priority: 10 }, { exchange: "mx20.dest.test", priority: 20 }] },
      a: { "mx10.dest.test": ["10.0.0.10"], "mx20.dest.test": ["10.0.0.20"], "mx30.dest.test": ["10.0.0.30"] },
      aaaa: { "mx10.dest.test": ["fd00::10"] },
    };
    expect(await hosts("dest.test", zone)).toEqual(["mx10.dest.test 10.0.0.10", "mx10.dest.test fd00::10", "mx20.dest.test 10.0.0.20", "mx30.dest.test 10.0.0.30"]);
  });

  test("shuffles MX hosts of equal preference (RFC 5321 §5.1), never past a better one", async () => {
    const zone: Zone = {
      mx: { "dest.test": [{ exchange: "a.dest.test", priority: 10 }, { exchange: "b.dest.test", priority: 10 }, { exchange: "c.dest.test", priority: 5 }] },
      a: { "a.dest.test": ["10.0.0.1"], "b.dest.test": ["10.0.0.2"], "c.dest.test": ["10.0.0.3"] },
    };
    // The tie is broken by the random key each record draws, in the order DNS gave them.
    const draws = (...keys: number[]) => {
      let i = 0;
      spyOn(Math, "random").mockImplementation(() => keys[i++ % keys.length]!);
    };
    draws(0.9, 0.1, 0.5);
    expect(await hosts("dest.test", zone)).toEqual(["c.dest.test 10.0.0.3", "b.dest.test 10.0.0.2", "a.dest.test 10.0.0.1"]);
    (Math.random as unknown as { mockRestore: () => void }).mockRestore();
    draws(0.1, 0.9, 0.5);
    expect(await hosts("dest.test", zone)).toEqual(["c.dest.test 10.0.0.3", "a.dest.test 10.0.0.1", "b.dest.test 10.0.0.2"]);
  });

  test("a null MX (RFC 7505) is a permanent 5.1.10, without any address lookup", async () => {
    for (const exchange of [".", ""]) {
      const r = resolver({ mx: { "nullmx.test": [{ exchange, priority: 0 }] }, a: { "nullmx.test": ["10.0.0.1"] } });
      const got = await mxHostsFor("nullmx.test", r, true);
      expect(got).toMatchObject({ ok: false, outcome: "permanent", enhanced: "5.1.10" });
      expect(r.asked).toEqual(["MX nullmx.test"]);
    }
  });

  test("without MX records the domain's own A and AAAA records are the implicit MX (RFC 5321 §5.1)", async () => {
    expect(await hosts("plain.test", { a: { "plain.test": ["10.0.0.7"] }, aaaa: { "plain.test": ["fd00::7"] } })).toEqual(["plain.test 10.0.0.7", "plain.test fd00::7"]);
    expect(await hosts("v6only.test", { aaaa: { "v6only.test": ["fd00::8"] } })).toEqual(["v6only.test fd00::8"]);
  });

  test("an MX host without addresses is skipped for the next one", async () => {
    const zone: Zone = {
      mx: { "dest.test": [{ exchange: "gone.dest.test", priority: 10 }, { exchange: "mx2.dest.test", priority: 20 }] },
      a: { "mx2.dest.test": ["10.0.0.2"] },
    };
    expect(await hosts("dest.test", zone)).toEqual(["mx2.dest.test 10.0.0.2"]);
  });

  test("NXDOMAIN, or a name with neither MX nor address, is a permanent 5.1.2", async () => {
    const r = await mxHostsFor("nowhere.test", resolver({}), true);
    expect(r).toMatchObject({ ok: false, outcome: "permanent", enhanced: "5.1.2" });
    const empty = await mxHostsFor("empty.test", resolver({ mx: { "empty.test": [] } }), true);
    expect(empty).toMatchObject({ ok: false, outcome: "permanent", enhanced: "5.1.2" });
  });

  test("a failing lookup (SERVFAIL, timeout) is transient 4.4.3, not a bounce", async () => {
    const mx = await mxHostsFor("flaky.test", resolver({ fail: { "flaky.test": "ESERVFAIL" } }), true);
    expect(mx).toMatchObject({ ok: false, outcome: "transient", enhanced: "4.4.3" });
    // No MX, and the address lookup times out: still only transient.
    const r = resolver({ mx: { "slow.test": [] } });
    r.resolve4 = () => Promise.reject(dnsError("ETIMEOUT", "slow.test"));
    expect(await mxHostsFor("slow.test", r, true)).toMatchObject({ ok: false, outcome: "transient", enhanced: "4.4.3" });
    // Every MX host without an address: try again later.
    const none = await mxHostsFor("dest.test", resolver({ mx: { "dest.test": [{ exchange: "gone.dest.test", priority: 10 }] } }), true);
    expect(none).toMatchObject({ ok: false, outcome: "transient", enhanced: "4.4.3" });
  });

  test("keeps only public addresses unless private ones are allowed; only private ones is 5.4.4", async () => {
    const zone: Zone = {
      mx: { "dest.test": [{ exchange: "in.dest.test", priority: 10 }, { exchange: "out.dest.test", priority: 20 }] },
      a: { "in.dest.test": ["127.0.0.1", "10.1.2.3"], "out.dest.test": ["93.184.215.14"] },
      aaaa: { "out.dest.test": ["::ffff:192.168.0.1", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"] },
    };
    expect(await hosts("dest.test", zone, false)).toEqual(["out.dest.test 93.184.215.14", "out.dest.test 2606:2800:21f:cb07:6820:80da:af6b:8b2c"]);
    const inside = await mxHostsFor("inside.test", resolver({ mx: { "inside.test": [{ exchange: "in.inside.test", priority: 1 }] }, a: { "in.inside.test": ["10.0.0.5"] } }), false);
    expect(inside).toMatchObject({ ok: false, outcome: "permanent", enhanced: "5.4.4" });
  });

  test("an address literal is used as it is, without DNS", async () => {
    const r = resolver({});
    const got = await mxHostsFor("[10.9.8.7]", r, true);
    expect(got).toEqual({ ok: true, hosts: [{ name: "10.9.8.7", address: "10.9.8.7" }] });
    expect(r.asked).toEqual([]);
  });
});
