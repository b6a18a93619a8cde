/**
 * The DMARC alignment decision at acceptance (RFC 7489 §3.1, relaxed): a table of From:
 * domains, envelope domains, signing keys, SPF verdicts and routes, each with its answer.
 */
import { describe, expect, test } from "bun:test";
import { alignmentText, judgeAlignment, orgAligned, spfCanAlign, type Alignment, type AlignmentFacts } from "../../../src/domain-check/alignment.ts";

const base: AlignmentFacts = { fromDomain: "example.com", envelopeDomain: "example.com", signingDomain: null, routes: "mx" };

const CASES: [string, Partial<AlignmentFacts>, Alignment][] = [
  // DKIM: the key the signer will use.
  ["a key for the From: domain itself", { signingDomain: "example.com" }, { aligned: true, by: "dkim" }],
  ["a key for the parent organizational domain (news.example.com signed as example.com)", { fromDomain: "news.example.com", signingDomain: "example.com" }, { aligned: true, by: "dkim" }],
  ["a key whatever the envelope and route", { signingDomain: "example.com", envelopeDomain: null, routes: "relay" }, { aligned: true, by: "dkim" }],
  ["a key under a multi-label public suffix (example.co.uk)", { fromDomain: "mail.example.co.uk", signingDomain: "example.co.uk", envelopeDomain: "other.test" }, { aligned: true, by: "dkim" }],
  ["a key at a public suffix is outside the organizational domain", { fromDomain: "example.co.uk", signingDomain: "co.uk", envelopeDomain: "other.test" }, { aligned: false, dkim: "key_unaligned", spf: "envelope_unaligned" }],
  ["a key of a private PSL suffix does not cover another tenant of it", { fromDomain: "alice.github.io", signingDomain: "github.io", envelopeDomain: null }, { aligned: false, dkim: "key_unaligned", spf: "null_sender" }],
  // SPF: envelope domain, route, then the record.
  ["no key, SPF passes for the same domain over MX", { spf: "pass" }, { aligned: true, by: "spf" }],
  ["no key, SPF passes for a bounce subdomain of the organizational domain", { fromDomain: "example.com", envelopeDomain: "bounces.example.com", spf: "pass" }, { aligned: true, by: "spf" }],
  ["no key, SPF of the envelope domain fails", { spf: "fail" }, { aligned: false, dkim: "no_key", spf: "spf_fail" }],
  ["no key, SPF lookup did not answer", { spf: "temperror" }, { aligned: false, dkim: "no_key", spf: "spf_temperror" }],
  ["no key, SPF not checked (no DNS, no SMARTHOST_SENDING_IPS)", { spf: "unchecked" }, { aligned: false, dkim: "no_key", spf: "spf_unchecked" }],
  ["no key, SPF not looked up at all", {}, { aligned: false, dkim: "no_key", spf: "spf_unchecked" }],
  ["no key, a relay route: its return path is its own, whatever SPF says", { routes: "relay", spf: "pass" }, { aligned: false, dkim: "no_key", spf: "relay_route" }],
  ["no key, the envelope domain is another organization", { envelopeDomain: "esp.example.net", spf: "pass" }, { aligned: false, dkim: "no_key", spf: "envelope_unaligned" }],
  ["no key, the null sender <>", { envelopeDomain: null, spf: "pass" }, { aligned: false, dkim: "no_key", spf: "null_sender" }],
  ["no key, a sibling under a public suffix is another organization", { fromDomain: "a.co.uk", envelopeDomain: "b.co.uk", spf: "pass" }, { aligned: false, dkim: "no_key", spf: "envelope_unaligned" }],
];

describe("judgeAlignment", () => {
  for (const [name, facts, want] of CASES) {
    test(name, () => expect(judgeAlignment({ ...base, ...facts })).toEqual(want));
  }
});

test("organizational domains come from the Public Suffix List, not the last two labels", () => {
  expect(orgAligned("news.example.com", "EXAMPLE.com")).toBe(true);
  expect(orgAligned("a.example.co.uk", "b.example.co.uk")).toBe(true);
  expect(orgAligned("example.co.uk", "other.co.uk")).toBe(false);
  expect(orgAligned("example.com", "example.net")).toBe(false);
});

test("SPF is worth a lookup only when an aligned envelope domain goes out by MX", () => {
  expect(spfCanAlign(base)).toBe(true);
  expect(spfCanAlign({ ...base, routes: "relay" })).toBe(false);
  expect(spfCanAlign({ ...base, envelopeDomain: null })).toBe(false);
  expect(spfCanAlign({ ...base, envelopeDomain: "example.org" })).toBe(false);
});

test("the text names the From: domain and both reasons", () => {
  const facts = { ...base, routes: "relay" as const };
  const verdict = judgeAlignment(facts);
  if (verdict.aligned) throw new Error("expected unaligned");
  expect(alignmentText(facts, verdict)).toBe("From: domain example.com will not align for DMARC: no active DKIM key for example.com or its organizational domain, and some recipients' mail leaves through a provider relay, whose return path is its own");
});
