/**
 * MTA-STS (src/delivery/mta-sts.ts) as tables: what a domain's `_mta-sts` TXT record and
 * policy text make of its policy (RFC 8461 §3.1, §3.2), with the RFC 8460 failure type when
 * it cannot be had; which MX hosts a policy lets through; what it demands of TLS.
 * DNS and the HTTPS fetch are injected; the policy cache is a libSQL file.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Database } from "../../../src/db/client.ts";
import { createMtaSts, mxUnderPolicy, stsDemand, type MxPlan, type StsPolicy } from "../../../src/delivery/mta-sts.ts";
import type { TlsDemand } from "../../../src/delivery/tls-outcome.ts";
import { openDatabase } from "../../../src/runtime/bun-db.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const ENFORCE = "version: STSv1\r\nmode: enforce\r\nmx: mx1.dest.test\r\nmx: *.backup.dest.test\r\nmax_age: 604800\r\n";

let dir: string;
let database: Database;
beforeAll(async () => {
  dir = tempDir();
  database = await openDatabase(`file:${join(dir, "sts.db")}`);
});
afterAll(() => {
  database?.close();
  if (dir) removeDir(dir);
});

/** An error as node's TLS gives it. */
const tlsError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("the policy a domain publishes", () => {
  const rows: {
    name: string;
    /** The TXT records at _mta-sts.DOMAIN, or an error code for a failing lookup. */
    txt: string[] | string;
    /** The policy file, or the error its fetch ends with. */
    policy?: string | Error;
    expected: Omit<StsPolicy, "domain"> | null;
  }[] = [
    { name: "no _mta-sts record: no policy", txt: [], expected: null },
    { name: "enforce, two MX patterns, CRLF lines: expires after max_age", txt: ["v=STSv1; id=20260601T000000"], policy: ENFORCE, expected: { policyId: "20260601T000000", mode: "enforce", mx: ["mx1.dest.test", "*.backup.dest.test"], expiresAt: NOW + 604_800_000 } },
    { name: "testing with LF lines", txt: ["v=STSv1; id=1"], policy: "version: STSv1\nmode: testing\nmx: mx.dest.test\nmax_age: 86400\n", expected: { policyId: "1", mode: "testing", mx: ["mx.dest.test"], expiresAt: NOW + 86_400_000 } },
    { name: "mode none needs no mx", txt: ["v=STSv1; id=off1"], policy: "version: STSv1\nmode: none\nmax_age: 86400\n", expected: { policyId: "off1", mode: "none", mx: [], expiresAt: NOW + 86_400_000 } },
    { name: "the mode's case does not matter", txt: ["v=STSv1; id=1"], policy: "version: STSv1\nmode: ENFORCE\nmx: mx.dest.test\nmax_age: 86400\n", expected: { policyId: "1", mode: "enforce", mx: ["mx.dest.test"], expiresAt: NOW + 86_400_000 } },
    { name: "other TXT records beside the STS one are ignored", txt: ["v=spf1 -all", "v=STSv1; id=abc"], policy: ENFORCE, expected: { policyId: "abc", mode: "enforce", mx: ["mx1.dest.test", "*.backup.dest.test"], expiresAt: NOW + 604_800_000 } },
    { name: "spaces around the id and a trailing ';' are allowed", txt: ["v=STSv1; id = abc123 ;"], policy: ENFORCE, expected: { policyId: "abc123", mode: "enforce", mx: ["mx1.dest.test", "*.backup.dest.test"], expiresAt: NOW + 604_800_000 } },
    { name: "an id with a '-' is no id (letters and digits only): no policy", txt: ["v=STSv1; id=2026-06-01"], policy: ENFORCE, expected: null },
    { name: "an id of 33 characters is too long: no policy", txt: [`v=STSv1; id=${"a".repeat(33)}`], policy: ENFORCE, expected: null },
    { name: "two STS records: no policy (exactly one is required)", txt: ["v=STSv1; id=1", "v=STSv1; id=2"], policy: ENFORCE, expected: null },
    { name: "a record without an id: no policy", txt: ["v=STSv1;"], policy: ENFORCE, expected: null },
    { name: "a record of another version: no policy", txt: ["v=STSv2; id=1"], policy: ENFORCE, expected: null },
    { name: "the TXT lookup failing, nothing cached: no policy", txt: "ESERVFAIL", policy: ENFORCE, expected: null },
    { name: "a policy without its version line is invalid", txt: ["v=STSv1; id=1"], policy: "mode: enforce\nmx: mx.dest.test\nmax_age: 86400\n", expected: { policyId: "1", mode: "none", mx: [], expiresAt: 0, fetchFailure: "sts-policy-invalid" } },
    { name: "enforce without any mx is invalid", txt: ["v=STSv1; id=1"], policy: "version: STSv1\nmode: enforce\nmax_age: 86400\n", expected: { policyId: "1", mode: "none", mx: [], expiresAt: 0, fetchFailure: "sts-policy-invalid" } },
    { name: "a policy without max_age is invalid", txt: ["v=STSv1; id=1"], policy: "version: STSv1\nmode: enforce\nmx: mx.dest.test\n", expected: { policyId: "1", mode: "none", mx: [], expiresAt: 0, fetchFailure: "sts-policy-invalid" } },
    { name: "an HTML page where the policy should be is invalid", txt: ["v=STSv1; id=1"], policy: "<html><body>Not here</body></html>", expected: { policyId: "1", mode: "none", mx: [], expiresAt: 0, fetchFailure: "sts-policy-invalid" } },
    { name: "the fetch answered 404: a fetch error", txt: ["v=STSv1; id=1"], policy: new Error("HTTP 404"), expected: { policyId: "1", mode: "none", mx: [], expiresAt: 0, fetchFailure: "sts-policy-fetch-error" } },
    {
      name: "the policy host's certificate names another host: WebPKI invalid",
      txt: ["v=STSv1; id=1"],
      policy: tlsError("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match certificate's altnames"),
      expected: { policyId: "1", mode: "none", mx: [], expiresAt: 0, fetchFailure: "sts-webpki-invalid" },
    },
    { name: "the policy host's certificate expired: WebPKI invalid", txt: ["v=STSv1; id=1"], policy: tlsError("CERT_HAS_EXPIRED", "certificate has expired"), expected: { policyId: "1", mode: "none", mx: [], expiresAt: 0, fetchFailure: "sts-webpki-invalid" } },
  ];

  rows.forEach((row, i) => {
    test(row.name, async () => {
      // A domain per row: the policy cache never carries one row's policy into another.
      const domain = `d${i}.dest.test`;
      const fetched: string[] = [];
      const sts = createMtaSts({
        db: database.db,
        now: () => NOW,
        resolve: async (name, rrtype) => {
          expect([name, rrtype]).toEqual([`_mta-sts.${domain}`, "TXT"]);
          if (typeof row.txt === "string") throw Object.assign(new Error(`queryTxt ${row.txt}`), { code: row.txt });
          return row.txt.map((r) => [r]);
        },
        fetchPolicy: async (url) => {
          fetched.push(url);
          if (row.policy instanceof Error) throw row.policy;
          return row.policy ?? "";
        },
      });
      const policy = await sts.policyFor(domain.toUpperCase());
      expect(policy).toEqual(row.expected && { domain, ...row.expected });
      // RFC 8461 §3.3: the policy is fetched from the well-known URL on mta-sts.DOMAIN, only when a record names an id.
      if (fetched.length > 0) expect(fetched).toEqual([`https://mta-sts.${domain}/.well-known/mta-sts.txt`]);
    });
  });
});

const policy = (mode: StsPolicy["mode"], mx: string[], fetchFailure?: StsPolicy["fetchFailure"]): StsPolicy => ({ domain: "dest.test", policyId: "1", mode, mx, expiresAt: NOW + 86_400_000, ...(fetchFailure ? { fetchFailure } : {}) });
const host = (name: string) => ({ name, address: "192.0.2.25" });

describe("which MX hosts a policy lets through", () => {
  const rows: { name: string; policy: StsPolicy | null; hosts: string[]; expected: MxPlan }[] = [
    { name: "no policy: every host, TLS not demanded", policy: null, hosts: ["mx1.dest.test", "mx2.dest.test"], expected: { hosts: [{ ...host("mx1.dest.test"), enforce: false }, { ...host("mx2.dest.test"), enforce: false }], notes: [] } },
    { name: "mode none: as without a policy", policy: policy("none", []), hosts: ["mx1.dest.test"], expected: { hosts: [{ ...host("mx1.dest.test"), enforce: false }], notes: [] } },
    { name: "enforce: only the hosts the policy names, each enforced", policy: policy("enforce", ["mx1.dest.test"]), hosts: ["mx1.dest.test", "mx.elsewhere.test"], expected: { hosts: [{ ...host("mx1.dest.test"), enforce: true }], notes: [] } },
    { name: "enforce: a wildcard stands for one label only (RFC 8461 §4.1), not two", policy: policy("enforce", ["*.dest.test"]), hosts: ["b.a.dest.test", "mx.dest.test"], expected: { hosts: [{ ...host("mx.dest.test"), enforce: true }], notes: [] } },
    { name: "enforce: a wildcard matches a host below the domain, not the domain itself", policy: policy("enforce", ["*.dest.test"]), hosts: ["a.dest.test", "dest.test"], expected: { hosts: [{ ...host("a.dest.test"), enforce: true }], notes: [] } },
    { name: "enforce: names match without regard to case", policy: policy("enforce", ["mx1.dest.test"]), hosts: ["MX1.Dest.Test"], expected: { hosts: [{ ...host("MX1.Dest.Test"), enforce: true }], notes: [] } },
    { name: "enforce: no host named, nothing may be tried", policy: policy("enforce", ["mx1.dest.test"]), hosts: ["mx.elsewhere.test", "mx.elsewhere.test"], expected: { refused: "MTA-STS policy of dest.test (enforce) allows none of its MX hosts (mx.elsewhere.test)" } },
    {
      name: "testing: every host, the ones outside the policy marked and noted once",
      policy: policy("testing", ["mx1.dest.test"]),
      hosts: ["mx1.dest.test", "mx.elsewhere.test", "mx.elsewhere.test"],
      expected: {
        hosts: [{ ...host("mx1.dest.test"), enforce: false, unlisted: false }, { ...host("mx.elsewhere.test"), enforce: false, unlisted: true }, { ...host("mx.elsewhere.test"), enforce: false, unlisted: true }],
        notes: ["MTA-STS testing: mx.elsewhere.test not in the policy of dest.test"],
      },
    },
    { name: "testing: all hosts named, no note", policy: policy("testing", ["*.dest.test"]), hosts: ["mx1.dest.test"], expected: { hosts: [{ ...host("mx1.dest.test"), enforce: false, unlisted: false }], notes: [] } },
  ];
  for (const row of rows) test(row.name, () => expect(mxUnderPolicy(row.policy, row.hosts.map(host))).toEqual(row.expected));
});

describe("what a policy demands of TLS", () => {
  const rows: { name: string; policy: StsPolicy | null; host?: { unlisted?: boolean }; expected: TlsDemand }[] = [
    { name: "no policy: nothing", policy: null, expected: { policy: null, required: false } },
    { name: "mode none: nothing", policy: policy("none", []), expected: { policy: null, required: false } },
    { name: "enforce: a verified certificate required", policy: policy("enforce", ["mx1.dest.test"]), expected: { policy: "enforce", required: true } },
    { name: "testing: nothing required, the mode recorded", policy: policy("testing", ["mx1.dest.test"]), host: { unlisted: false }, expected: { policy: "testing", required: false } },
    { name: "testing, a host outside the policy: a validation failure to report (RFC 8460 §4.3.1)", policy: policy("testing", ["mx1.dest.test"]), host: { unlisted: true }, expected: { policy: "testing", required: false, policyFailure: "validation-failure" } },
    { name: "a policy that could not be fetched: its failure type, no mode", policy: policy("none", [], "sts-webpki-invalid"), expected: { policy: null, required: false, policyFailure: "sts-webpki-invalid" } },
    { name: "a cached enforce policy after a failed fetch: still enforced, the failure kept", policy: policy("enforce", ["mx1.dest.test"], "sts-policy-fetch-error"), expected: { policy: "enforce", required: true, policyFailure: "sts-policy-fetch-error" } },
  ];
  for (const row of rows) test(row.name, () => expect(stsDemand(row.policy, row.host)).toEqual(row.expected));
});
