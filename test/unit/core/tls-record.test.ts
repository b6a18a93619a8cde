import { describe, expect, test } from "bun:test";
import { decodeTlsRecord } from "../../../src/core/tls-record.ts";

const verified = { outcome: "verified", protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384", result_type: null, policy: "enforce" };

const rows: [string, unknown, unknown][] = [
  ["a stored JSON text", JSON.stringify(verified), verified],
  ["an object drizzle already parsed", verified, verified],
  ["a failure with its RFC 8460 type", { outcome: "none", protocol: null, cipher: null, result_type: "starttls-not-supported", policy: "testing" }, { outcome: "none", protocol: null, cipher: null, result_type: "starttls-not-supported", policy: "testing" }],
  ["a DANE failure under policy tlsa", { outcome: "opportunistic", protocol: "TLSv1.3", cipher: null, result_type: "tlsa-invalid", policy: "tlsa" }, { outcome: "opportunistic", protocol: "TLSv1.3", cipher: null, result_type: "tlsa-invalid", policy: "tlsa" }],
  ["a DNSSEC failure under policy tlsa", { outcome: "none", result_type: "dnssec-invalid", policy: "tlsa" }, { outcome: "none", protocol: null, cipher: null, result_type: "dnssec-invalid", policy: "tlsa" }],
  ["missing optional fields read as null", { outcome: "opportunistic" }, { outcome: "opportunistic", protocol: null, cipher: null, result_type: null, policy: null }],
  ["an unknown result type reads as null", { ...verified, result_type: "made-up" }, { ...verified, result_type: null }],
  ["an unknown policy mode reads as null", { ...verified, policy: "none" }, { ...verified, policy: null }],
  ["a protocol that is not text reads as null", { ...verified, protocol: 3 }, { ...verified, protocol: null }],
  ["an unknown level is no record", { ...verified, outcome: "great" }, null],
  ["an empty column", "", null],
  ["no column", null, null],
  ["text that is not JSON", "{oops", null],
  ["JSON that is not an object", "42", null],
];

describe("decodeTlsRecord", () => {
  for (const [name, stored, expected] of rows) test(name, () => expect(decodeTlsRecord(stored)).toEqual(expected as never));
});
