import { describe, expect, test } from "bun:test";
import { checkDane, type DaneView } from "../../../src/domain-check/dane.ts";

const mx = (names: string[]) => async (_name: string, type: string) => {
  if (type !== "MX") throw Object.assign(new Error("no data"), { code: "ENODATA" });
  return names.map((exchange, i) => ({ exchange, priority: 10 * (names.length - i) }));
};
const probe = (view: DaneView) => async () => view;

const rows: { name: string; mx: string[]; view?: DaneView; ok: boolean; found: string | null; detail: RegExp }[] = [
  { name: "no probe: DANE is off, nothing looked at", mx: ["mx.d.test"], ok: true, found: null, detail: /SMARTHOST_DANE is off/ },
  { name: "no MX: DANE does not apply", mx: [], view: { state: "unsigned" }, ok: true, found: null, detail: /no MX records/ },
  { name: "unsigned MX records", mx: ["mx.d.test"], view: { state: "unsigned" }, ok: true, found: null, detail: /not signed/ },
  { name: "bogus MX answer: mail deferred", mx: ["mx.d.test"], view: { state: "failed", reason: "MX lookup for d.test: rcode 2" }, ok: false, found: null, detail: /deferred \(dnssec-invalid\)/ },
  {
    name: "usable TLSA on one host of two, listed in MX preference order",
    mx: ["b.d.test", "a.d.test"],
    view: { state: "secure", hosts: [{ name: "a.d.test", kind: "tlsa", detail: "3 1 1 00ff…" }, { name: "b.d.test", kind: "none" }] },
    ok: true,
    found: "a.d.test: TLSA 3 1 1 00ff… | b.d.test: no TLSA",
    detail: /^1 of 2 MX host\(s\) authenticated by TLSA$/,
  },
  { name: "a host whose TLSA lookup failed cannot be used", mx: ["a.d.test"], view: { state: "secure", hosts: [{ name: "a.d.test", kind: "failed", detail: "rcode 2" }] }, ok: false, found: "a.d.test: lookup failed (rcode 2)", detail: /cannot be used/ },
  { name: "secure, TLSA without a usable record: encryption required", mx: ["a.d.test"], view: { state: "secure", hosts: [{ name: "a.d.test", kind: "encrypt" }] }, ok: true, found: "a.d.test: TLSA with no usable record (encryption required)", detail: /no TLSA/ },
];

describe("checkDane", () => {
  for (const r of rows) {
    test(r.name, async () => {
      const c = await checkDane(mx(r.mx), r.view ? probe(r.view) : undefined, "d.test");
      expect({ check: c.check, ok: c.ok, found: c.found }).toEqual({ check: "dane", ok: r.ok, found: r.found });
      expect(c.detail).toMatch(r.detail);
    });
  }

  test("the probe gets the MX names in preference order", async () => {
    let seen: string[] = [];
    await checkDane(mx(["low.d.test", "high.d.test"]), async (_d, names) => ((seen = names), { state: "unsigned" }), "d.test");
    expect(seen).toEqual(["high.d.test", "low.d.test"]);
  });
});
