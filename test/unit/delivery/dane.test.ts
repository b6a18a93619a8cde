import { describe, expect, test } from "bun:test";
import { createHash, X509Certificate } from "node:crypto";
import { checkChain, tlsaMatches, usableTlsa, type Tlsa } from "../../../src/delivery/dane.ts";
import { nodeCertificateTools as tools } from "../../../src/runtime/node-x509.ts";

// Made once with openssl (P-256, valid 2026-12-07 to 2126): a CA, a leaf for
// mx.example.test it issued, and a self-signed certificate for the same name.
const CA = `
-----BEGIN CERTIFICATE-----
MIIBljCCATugAwIBAgIUCIWiy1rwQOaRxoHcDhc0yXjwof8wCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMREFORSBUZXN0IENBMCAXDTI2MTIwNzIwMTM1NloYDzIxMjYx
MTEzMjAxMzU2WjAXMRUwEwYDVQQDDAxEQU5FIFRlc3QgQ0EwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAATWqRzH41BkPrjiPKtSIK4mpRwzRaBjg4iNv0rRUZSCrXje
lUvx7mVNTsz0Vjt2gaAnPooZzqfEEN33sMwbCqb3o2MwYTAdBgNVHQ4EFgQUluLo
VKtLcHMKnWZus00BCMoXv4IwHwYDVR0jBBgwFoAUluLoVKtLcHMKnWZus00BCMoX
v4IwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAgQwCgYIKoZIzj0EAwID
SQAwRgIhAM4u5VzJSQa59p8nFKjxQQ9G2FJATA8AmCzyj3NefjiBAiEAlHuTVCvs
0qX2HuF0m+n6IprtJ8B/L8grSS+sc3ByMQo=
-----END CERTIFICATE-----
`;
const LEAF = `
-----BEGIN CERTIFICATE-----
MIIBnjCCAUSgAwIBAgIUF+CPDLu3LhMIbeDUcxSWOXdFI6QwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMREFORSBUZXN0IENBMCAXDTI2MTIwNzIwMTM1NloYDzIxMjYx
MTEzMjAxMzU2WjAaMRgwFgYDVQQDDA9teC5leGFtcGxlLnRlc3QwWTATBgcqhkjO
PQIBBggqhkjOPQMBBwNCAATM0/eTwyKOjuhimklRJlRa0HswK7fvSLcWBL5qzE3Q
JEkU3d73VqWa0VOGw8mUm3pMOscCLnz9HzKPjj4tbgp2o2kwZzAaBgNVHREEEzAR
gg9teC5leGFtcGxlLnRlc3QwCQYDVR0TBAIwADAdBgNVHQ4EFgQUxXytoBQrVcmo
kCSwnB/W5hdu9hcwHwYDVR0jBBgwFoAUluLoVKtLcHMKnWZus00BCMoXv4IwCgYI
KoZIzj0EAwIDSAAwRQIgNwU7RFhcC4Yb/OCHmWUCFxZrz7zfiE4Cjbeud3KqFmQC
IQCayHMVgqciFx8Y6gEyHN2TIpxm4OH5t+6ziDxxB7aJPg==
-----END CERTIFICATE-----
`;
const OTHER = `
-----BEGIN CERTIFICATE-----
MIIBqDCCAU2gAwIBAgIUZhvVeAM4O/BXr5rO53osef5MdwMwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPbXguZXhhbXBsZS50ZXN0MCAXDTI2MTIwNzIwMTM1NloYDzIx
MjYxMTEzMjAxMzU2WjAaMRgwFgYDVQQDDA9teC5leGFtcGxlLnRlc3QwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAARSWD9zeNExhBuNRGRJwlHdlLDjhRpWsQf3P/iK
1f+gU9KGwJeEKaK6q7clUZMjioB50x6ygdPbPfQrstjSJmpUo28wbTAdBgNVHQ4E
FgQUF9e+m5JuF5zOpMN/1jL+52s70zkwHwYDVR0jBBgwFoAUF9e+m5JuF5zOpMN/
1jL+52s70zkwDwYDVR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgg9teC5leGFtcGxl
LnRlc3QwCgYIKoZIzj0EAwIDSQAwRgIhAPvMldlSOWEaKQVOaZeUTOaXaaxj5Vqk
c9XawxYwNuqkAiEA21brGnwa0oUX8Sqzyudq9YCDfq0W+4woI9DP4lDhtLE=
-----END CERTIFICATE-----
`;

const der = (pem: string) => new Uint8Array(new X509Certificate(pem).raw);
const [ca, leaf, other] = [der(CA), der(LEAF), der(OTHER)];
const spki = (d: Uint8Array) => new Uint8Array(new X509Certificate(d).publicKey.export({ type: "spki", format: "der" }));
const hash = (alg: string, d: Uint8Array) => new Uint8Array(createHash(alg).update(d).digest());
const rec = (usage: number, selector: number, matchingType: number, data: Uint8Array): Tlsa => ({ usage, selector, matchingType, data });
const NOW = Date.parse("2030-01-01T00:00:00Z");
const NAMES = ["mx.example.test"];

describe("which TLSA records SMTP may use (RFC 7672 §3.1.3)", () => {
  const rows: [string, Tlsa, boolean][] = [
    ["DANE-EE 3 1 1", rec(3, 1, 1, new Uint8Array(32)), true],
    ["DANE-EE 3 0 1", rec(3, 0, 1, new Uint8Array(32)), true],
    ["DANE-EE 3 1 2", rec(3, 1, 2, new Uint8Array(64)), true],
    ["DANE-TA 2 0 1", rec(2, 0, 1, new Uint8Array(32)), true],
    ["DANE-TA 2 1 0 (a full public key)", rec(2, 1, 0, new Uint8Array(91)), true],
    ["PKIX-TA 0 0 1 is unusable for SMTP", rec(0, 0, 1, new Uint8Array(32)), false],
    ["PKIX-EE 1 1 1 is unusable for SMTP", rec(1, 1, 1, new Uint8Array(32)), false],
    ["an unknown usage", rec(4, 1, 1, new Uint8Array(32)), false],
    ["an unknown selector", rec(3, 2, 1, new Uint8Array(32)), false],
    ["an unknown matching type", rec(3, 1, 3, new Uint8Array(32)), false],
  ];
  for (const [name, t, usable] of rows) test(`${name}: ${usable ? "usable" : "unusable"}`, () => expect(usableTlsa(t)).toBe(usable));
});

describe("a record's data against a certificate (RFC 6698 §2.1)", () => {
  const rows: [string, Tlsa, Uint8Array, boolean][] = [
    ["SPKI SHA-256 of the leaf", rec(3, 1, 1, hash("sha256", spki(leaf))), leaf, true],
    ["SPKI SHA-512 of the leaf", rec(3, 1, 2, hash("sha512", spki(leaf))), leaf, true],
    ["the full SPKI of the leaf", rec(3, 1, 0, spki(leaf)), leaf, true],
    ["full certificate SHA-256", rec(3, 0, 1, hash("sha256", leaf)), leaf, true],
    ["the full certificate", rec(3, 0, 0, leaf), leaf, true],
    ["SPKI digest of another key", rec(3, 1, 1, hash("sha256", spki(other))), leaf, false],
    ["certificate digest given as an SPKI digest", rec(3, 1, 1, hash("sha256", leaf)), leaf, false],
    ["SHA-256 data under matching type 2", rec(3, 1, 2, hash("sha256", spki(leaf))), leaf, false],
    ["a digest one byte short", rec(3, 1, 1, hash("sha256", spki(leaf)).slice(1)), leaf, false],
  ];
  for (const [name, t, cert, matches] of rows) test(`${name}: ${matches ? "matches" : "does not match"}`, () => expect(tlsaMatches(t, cert, tools)).toBe(matches));
});

describe("a server's chain against its TLSA records (RFC 7672 §3.1, §3.2.2)", () => {
  const ee = rec(3, 1, 1, hash("sha256", spki(leaf)));
  const ta = rec(2, 0, 1, hash("sha256", ca));
  const taKey = rec(2, 1, 1, hash("sha256", spki(ca)));
  const rows: [string, Uint8Array[], Tlsa[], string[], number, unknown][] = [
    ["DANE-EE: the leaf's key matches", [leaf, ca], [ee], NAMES, NOW, { ok: true, usage: "DANE-EE" }],
    ["DANE-EE ignores the name", [leaf], [ee], ["mail.elsewhere.test"], NOW, { ok: true, usage: "DANE-EE" }],
    ["DANE-EE ignores the dates", [leaf], [ee], NAMES, Date.parse("2001-01-01"), { ok: true, usage: "DANE-EE" }],
    ["DANE-EE with another key", [other], [ee], NAMES, NOW, { ok: false, resultType: "tlsa-invalid" }],
    ["one matching record among several", [leaf], [rec(3, 1, 1, new Uint8Array(32)), ee], NAMES, NOW, { ok: true, usage: "DANE-EE" }],
    ["a PKIX-EE record that would match is not used", [leaf], [rec(1, 1, 1, hash("sha256", spki(leaf)))], NAMES, NOW, { ok: false, resultType: "tlsa-invalid" }],
    ["DANE-TA: the CA in the chain matches, the leaf is issued by it and named", [leaf, ca], [ta], NAMES, NOW, { ok: true, usage: "DANE-TA" }],
    ["DANE-TA by the CA's public key", [leaf, ca], [taKey], NAMES, NOW, { ok: true, usage: "DANE-TA" }],
    ["DANE-TA checks the name", [leaf, ca], [ta], ["mail.elsewhere.test"], NOW, { ok: false, resultType: "certificate-host-mismatch" }],
    ["DANE-TA checks the leaf's dates", [leaf, ca], [ta], NAMES, Date.parse("2020-01-01"), { ok: false, resultType: "certificate-expired" }],
    ["DANE-TA: a leaf the anchor did not issue", [other, ca], [ta], NAMES, NOW, { ok: false, resultType: "tlsa-invalid" }],
    ["DANE-TA: the server left the anchor out of its chain", [leaf], [ta], NAMES, NOW, { ok: false, resultType: "tlsa-invalid" }],
    ["no certificate at all", [], [ee], NAMES, NOW, { ok: false, resultType: "tlsa-invalid" }],
  ];
  for (const [name, chain, records, names, now, expected] of rows) {
    test(name, () => expect(checkChain(chain, records, names, tools, now)).toMatchObject(expected as object));
  }
});
