/** The report builder as a specification: session groups in, RFC 8460 §4 JSON out. */
import { describe, expect, test } from "bun:test";
import type { TlsRecord } from "../../../src/core/tls-record.ts";
import { buildReport, failureOf, policyTypeOf, previousDay, reportIdFor, type ReportInput, type SessionGroup } from "../../../src/tlsrpt/report.ts";
import { parseTlsRptRecord } from "../../../src/tlsrpt/record.ts";
import { tlsRptEnabled } from "../../../src/tlsrpt/settings.ts";
import { loadConfig } from "../../../src/config.ts";

const tls = (over: Partial<TlsRecord>): TlsRecord => ({ outcome: "verified", protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", result_type: null, policy: null, ...over });
const group = (mxHost: string | null, receivingIp: string | null, t: Partial<TlsRecord>, sessions: number): SessionGroup => ({ mxHost, receivingIp, tls: tls(t), sessions });

const base: ReportInput = {
  domain: "example.org",
  day: "2026-03-01",
  organization: "Relay Inc.",
  contact: "postmaster@relay.example.net",
  submitter: "relay.example.net",
  sendingIps: ["192.0.2.10", "2001:db8::10"],
  groups: [],
  sts: null,
};

describe("policy type and failure of one record (RFC 8460 §4.3)", () => {
  const cases: [string, Partial<TlsRecord>, ReturnType<typeof policyTypeOf>, string | null][] = [
    ["verified under an enforced MTA-STS policy", { policy: "enforce" }, "sts", null],
    ["opportunistic under testing, certificate fine", { outcome: "opportunistic", policy: "testing" }, "sts", null],
    ["testing policy, certificate for another name", { outcome: "opportunistic", policy: "testing", result_type: "certificate-host-mismatch" }, "sts", "certificate-host-mismatch"],
    ["policy that could not be fetched", { outcome: "opportunistic", result_type: "sts-policy-fetch-error" }, "sts", "sts-policy-fetch-error"],
    ["DANE-authenticated host", { policy: "tlsa" }, "tlsa", null],
    ["TLSA records that do not match", { outcome: "none", policy: "tlsa", result_type: "tlsa-invalid" }, "tlsa", "tlsa-invalid"],
    ["no policy, encrypted (self-signed is fine without a policy)", { outcome: "opportunistic" }, "no-policy-found", null],
    ["no policy, plaintext: no STARTTLS", { outcome: "none", protocol: null, cipher: null }, "no-policy-found", "starttls-not-supported"],
  ];
  for (const [what, t, type, failure] of cases) {
    test(what, () => {
      expect(policyTypeOf(tls(t))).toBe(type);
      expect(failureOf(tls(t))).toBe(failure);
    });
  }
});

test("the report's fields: organization, contact, whole UTC day, a stable report-id", () => {
  const r = buildReport(base);
  expect(r).toEqual({
    "organization-name": "Relay Inc.",
    "date-range": { "start-datetime": "2026-03-01T00:00:00Z", "end-datetime": "2026-03-01T23:59:59Z" },
    "contact-info": "postmaster@relay.example.net",
    "report-id": "20260301.example.org@relay.example.net",
    policies: [],
  });
  expect(reportIdFor("2026-03-01", "example.org", "relay.example.net")).toBe(r["report-id"]);
});

test("sessions counted per policy, failures grouped by result type, host and address", () => {
  const r = buildReport({
    ...base,
    sts: { mode: "enforce", mx: ["mx1.example.org", "*.mail.example.org"], maxAgeSeconds: 86400 },
    groups: [
      group("mx1.example.org", "198.51.100.1", { policy: "enforce" }, 7),
      group("mx2.mail.example.org", "198.51.100.2", { policy: "enforce" }, 3),
      group("mx2.mail.example.org", "2001:db8::2", { policy: "enforce", outcome: "none", result_type: "certificate-expired" }, 2),
      group("mx2.mail.example.org", "2001:db8::2", { policy: "enforce", outcome: "none", result_type: "certificate-expired", protocol: "TLSv1.2" }, 1),
      group(null, null, { policy: "enforce", outcome: "none", result_type: "validation-failure" }, 4),
      group("mx1.example.org", "198.51.100.1", { outcome: "none" }, 5),
    ],
  });
  expect(r.policies).toEqual([
    {
      policy: {
        "policy-type": "sts",
        "policy-string": ["version: STSv1", "mode: enforce", "mx: mx1.example.org", "mx: *.mail.example.org", "max_age: 86400"],
        "policy-domain": "example.org",
        "mx-host": ["mx1.example.org", "*.mail.example.org"],
      },
      summary: { "total-successful-session-count": 10, "total-failure-session-count": 7 },
      "failure-details": [
        { "result-type": "certificate-expired", "sending-mta-ip": "2001:db8::10", "receiving-mx-hostname": "mx2.mail.example.org", "receiving-ip": "2001:db8::2", "failed-session-count": 3 },
        { "result-type": "validation-failure", "sending-mta-ip": "192.0.2.10", "failed-session-count": 4 },
      ],
    },
    {
      policy: { "policy-type": "no-policy-found", "policy-domain": "example.org" },
      summary: { "total-successful-session-count": 0, "total-failure-session-count": 5 },
      "failure-details": [{ "result-type": "starttls-not-supported", "sending-mta-ip": "192.0.2.10", "receiving-mx-hostname": "mx1.example.org", "receiving-ip": "198.51.100.1", "failed-session-count": 5 }],
    },
  ]);
});

test("no sending-mta-ip when the operator named none; an sts policy not cached has no policy-string", () => {
  const r = buildReport({ ...base, sendingIps: [], groups: [group("mx.example.org", "198.51.100.1", { policy: "testing", outcome: "opportunistic", result_type: "certificate-not-trusted" }, 1)] });
  expect(r.policies[0]!.policy).toEqual({ "policy-type": "sts", "policy-domain": "example.org" });
  expect(r.policies[0]!["failure-details"][0]).toEqual({ "result-type": "certificate-not-trusted", "receiving-mx-hostname": "mx.example.org", "receiving-ip": "198.51.100.1", "failed-session-count": 1 });
});

test("the day reported is the UTC day before", () => {
  expect(previousDay(Date.parse("2026-03-02T00:00:00Z"))).toBe("2026-03-01");
  expect(previousDay(Date.parse("2026-03-01T23:59:59Z"))).toBe("2026-02-28");
  expect(previousDay(Date.parse("2024-03-01T05:00:00Z"))).toBe("2024-02-29");
});

describe("the _smtp._tls record (RFC 8460 §3)", () => {
  const cases: [string, string[], unknown][] = [
    ["mailto and https", ["v=TLSRPTv1; rua=mailto:tls@example.org,https://reports.example.org/v1"], { rua: [{ kind: "mailto", uri: "mailto:tls@example.org", address: "tls@example.org" }, { kind: "https", uri: "https://reports.example.org/v1" }] }],
    ["spaces around fields and a percent-encoded address", ["v=TLSRPTv1 ; rua = mailto:tls%2Breports@example.org "], { rua: [{ kind: "mailto", uri: "mailto:tls%2Breports@example.org", address: "tls+reports@example.org" }] }],
    ["http and other schemes are skipped", ["v=TLSRPTv1; rua=http://x.example,ftp://y.example,https://z.example/r"], { rua: [{ kind: "https", uri: "https://z.example/r" }] }],
    ["other TXT records beside it", ["v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@example.org"], { rua: [{ kind: "mailto", uri: "mailto:a@example.org", address: "a@example.org" }] }],
    ["none", ["v=spf1 -all"], { none: "no TLS-RPT record" }],
    ["two records: none applies", ["v=TLSRPTv1; rua=mailto:a@example.org", "v=TLSRPTv1; rua=mailto:b@example.org"], { none: "more than one TLS-RPT record" }],
    ["no rua", ["v=TLSRPTv1;"], { none: "the record has no rua=" }],
    ["only unusable addresses", ["v=TLSRPTv1; rua=mailto:nobody"], { none: "rua= names no mailto: or https: address" }],
    ["the version is case-sensitive", ["v=tlsrptv1; rua=mailto:a@example.org"], { none: "no TLS-RPT record" }],
  ];
  for (const [what, txt, want] of cases) {
    test(what, () => expect(parseTlsRptRecord(txt)).toMatchObject(want as object));
  }
});

describe("SMARTHOST_TLSRPT", () => {
  const cases: [Record<string, string>, boolean][] = [
    [{ SMARTHOST_HOSTNAME: "mail.example.com" }, true],
    [{ SMARTHOST_HOSTNAME: "mail.example.com", SMARTHOST_TLSRPT: "off" }, false],
    [{ SMARTHOST_HOSTNAME: "relay.test" }, false],
    [{ SMARTHOST_HOSTNAME: "relay.test", SMARTHOST_TLSRPT: "on" }, true],
    [{ SMARTHOST_HOSTNAME: "localhost" }, false],
    [{ SMARTHOST_HOSTNAME: "" }, false],
    [{ SMARTHOST_HOSTNAME: "mx.corp.internal" }, false],
    [{ SMARTHOST_HOSTNAME: "10.0.0.1" }, false],
  ];
  for (const [env, on] of cases) test(`${JSON.stringify(env)} → ${on ? "on" : "off"}`, () => expect(tlsRptEnabled(loadConfig(env))).toBe(on));
  test("a bad value stops start-up", () => expect(() => loadConfig({ SMARTHOST_TLSRPT: "yes" })).toThrow("SMARTHOST_TLSRPT must be on or off"));
});
