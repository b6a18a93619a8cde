/** The domain check against a real DNS server on loopback (dns2), with good and broken records. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { addDkimKey } from "../../../src/admin/dkim.ts";
import { addRoute } from "../../../src/admin/routes.ts";
import type { Database } from "../../../src/db/client.ts";
import { checkDomain, formatReport, type DomainCheckDeps } from "../../../src/domain-check/check.ts";
import { openDatabase } from "../../../src/runtime/bun-db.ts";
import { createDnsResolve } from "../../../src/runtime/node-dns-records.ts";
import { createSecretBox, generateSecretKey } from "../../../src/secrets/cipher.ts";
import { startDns, type DnsServer, type Zone } from "../../support/dns-server.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

let dir = "";
let database: Database;
let dns: DnsServer;
let deps: DomainCheckDeps;
const zone: Required<Pick<Zone, "txt" | "mx">> = { txt: {}, mx: {} };
const policies: Record<string, string> = {};
const fetched: string[] = [];
const split = (record: string) => [...record.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);

beforeAll(async () => {
  dir = tempDir();
  database = await openDatabase(`file:${join(dir, "d.db")}`);
  dns = await startDns(zone);
  const box = await createSecretBox(generateSecretKey());
  await addRoute(database.db, box, "*", "smtp://user:pw@smtp.provider.test:587");
  const [goodKey] = await addDkimKey({ db: database.db, secrets: box }, "good.test", { selector: "s1" });
  await addDkimKey({ db: database.db, secrets: box }, "bad.test", { selector: "s1", algorithm: "ed25519" });
  const other = (await import("../../../src/dkim/keys.ts")).generateDkimKey;
  // good.test: everything as it should be, the DKIM record as the CLI printed it.
  zone.txt["good.test"] = [["v=spf1 ip4:192.0.2.10 include:_spf.provider.test -all"], ["google-site-verification=x"]];
  zone.txt["_spf.provider.test"] = [["v=spf1 ip4:198.51.100.0/24 -all"]];
  zone.txt["s1._domainkey.good.test"] = [split(goodKey!.record)];
  zone.txt["_dmarc.good.test"] = [["v=DMARC1; p=reject; rua=mailto:d@good.test"]];
  zone.txt["_mta-sts.good.test"] = [["v=STSv1; id=20261129"]];
  zone.txt["_smtp._tls.good.test"] = [["v=TLSRPTv1; rua=mailto:tls@good.test"]];
  zone.mx["good.test"] = [{ exchange: "mx1.good.test", priority: 10 }];
  policies["https://mta-sts.good.test/.well-known/mta-sts.txt"] = "version: STSv1\r\nmode: enforce\r\nmx: *.good.test\r\nmax_age: 86400\r\n";
  // bad.test: SPF missing this relay, DKIM record with another key, no DMARC, an MTA-STS
  // record whose policy is not there, a TLS-RPT record without rua=.
  zone.txt["bad.test"] = [["v=spf1 mx -all"]];
  zone.txt["s1._domainkey.bad.test"] = [[`v=DKIM1; k=ed25519; p=${(await other("ed25519")).publicKey}`]];
  zone.txt["_mta-sts.bad.test"] = [["v=STSv1; id=1"]];
  zone.txt["_smtp._tls.bad.test"] = [["v=TLSRPTv1;"]];
  zone.mx["bad.test"] = [{ exchange: "mx.bad.test", priority: 10 }];
  deps = {
    db: database.db,
    resolve: createDnsResolve([dns.address]),
    sendingIps: ["192.0.2.10"],
    fetchPolicy: async (url) => {
      fetched.push(url);
      const p = policies[url];
      if (p === undefined) throw new Error(`HTTP 404 from ${url}`);
      return p;
    },
  };
});
afterAll(async () => {
  await dns?.close();
  database?.close();
  if (dir) removeDir(dir);
});

const byCheck = (r: Awaited<ReturnType<typeof checkDomain>>) => Object.fromEntries(r.checks.map((c) => [c.check, c]));

describe("domain check", () => {
  test("a domain with every record right: all ✓, nothing to publish", async () => {
    const r = await checkDomain(deps, "good.test");
    expect(r.checks.map((c) => [c.check, c.ok])).toEqual([["spf", true], ["dkim", true], ["dmarc", true], ["mta-sts", true], ["tls-rpt", true]]);
    expect(r.ok).toBe(true);
    const c = byCheck(r);
    expect(c.spf!.found).toBe("v=spf1 ip4:192.0.2.10 include:_spf.provider.test -all");
    expect(c.dmarc!.detail).toContain("p=reject");
    expect(c["mta-sts"]!.detail).toBe("policy mode enforce, max_age 86400, mx *.good.test");
    expect(fetched).toContain("https://mta-sts.good.test/.well-known/mta-sts.txt");
    expect(formatReport(r)).not.toContain("✗");
  });

  test("a domain with broken records: each ✗ says why and gives the record to publish", async () => {
    const r = await checkDomain(deps, "bad.test");
    expect(r.ok).toBe(false);
    const c = byCheck(r);
    expect(c.spf!.ok).toBe(false);
    expect(c.spf!.detail).toBe("does not authorize ip4:192.0.2.10, include:provider.test");
    expect(c.spf!.publish).toBe('bad.test IN TXT "v=spf1 mx ip4:192.0.2.10 include:provider.test -all"');
    expect(c.dkim!.ok).toBe(false);
    expect(c.dkim!.detail).toBe("active: the published key is not the stored one");
    expect(c.dkim!.publish).toMatch(/^s1\._domainkey\.bad\.test IN TXT "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}="$/);
    expect(c.dmarc!.ok).toBe(false);
    expect(c.dmarc!.publish).toBe('_dmarc.bad.test IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@bad.test"');
    expect(c["mta-sts"]!.ok).toBe(false);
    expect(c["mta-sts"]!.detail).toBe("policy not fetched: HTTP 404 from https://mta-sts.bad.test/.well-known/mta-sts.txt");
    expect(c["mta-sts"]!.publish).toContain("mx: mx.bad.test");
    expect(c["tls-rpt"]!.ok).toBe(false);
    expect(c["tls-rpt"]!.publish).toBe('_smtp._tls.bad.test IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@bad.test"');
    const text = formatReport(r);
    expect(text).toContain("✗ SPF: does not authorize");
    expect(text).toContain("    publish: bad.test IN TXT");
  });

  test("nothing published at all; two SPF records; a DKIM record not yet there; DMARC inherited from the parent", async () => {
    const none = await checkDomain(deps, "empty.test");
    expect(none.checks.map((c) => [c.check, c.ok, c.found])).toEqual([["spf", false, null], ["dkim", false, null], ["dmarc", false, null], ["mta-sts", false, null], ["tls-rpt", false, null]]);
    expect(byCheck(none).spf!.publish).toBe('empty.test IN TXT "v=spf1 ip4:192.0.2.10 include:provider.test ~all"');
    expect(byCheck(none).dkim!.detail).toBe("no DKIM key: run smarthost dkim add empty.test");

    zone.txt["twice.test"] = [["v=spf1 -all"], ["v=spf1 ip4:192.0.2.10 -all"]];
    expect(byCheck(await checkDomain(deps, "twice.test")).spf!.detail).toContain("more than one SPF record");

    const sub = await checkDomain(deps, "news.good.test");
    const dkim = byCheck(sub).dkim!;
    expect([dkim.ok, dkim.detail]).toEqual([true, "active (signs for news.good.test as good.test): published key matches"]);
    expect(byCheck(sub).dmarc!.detail).toBe("receivers reject mail that fails (p=reject) (inherited from good.test)");

    await addDkimKey({ db: database.db, secrets: await createSecretBox(generateSecretKey()) }, "fresh.test", { selector: "new" });
    const missing = byCheck(await checkDomain(deps, "fresh.test")).dkim!;
    expect([missing.ok, missing.detail]).toEqual([false, "active: no TXT record at new._domainkey.fresh.test"]);
    expect(missing.publish).toStartWith('new._domainkey.fresh.test IN TXT "v=DKIM1; k=rsa; p=');
  });
});

describe("TXT records from Bun's resolver", () => {
  test("a 2048-bit DKIM record (two strings) comes back as one record; separate records stay separate", async () => {
    const { rejoinSplitTxt } = await import("../../../src/runtime/node-dns-records.ts");
    const a = "a".repeat(255);
    expect(rejoinSplitTxt([[a], ["rest"], ["v=spf1 -all"], ["other"]])).toEqual([[a, "rest"], ["v=spf1 -all"], ["other"]]);
    zone.txt["long.test"] = [[a, "b".repeat(150)], ["v=spf1 -all"]];
    expect(await deps.resolve("long.test", "TXT")).toEqual([[a, "b".repeat(150)], ["v=spf1 -all"]]);
  });
});
