import { describe, expect, test } from "bun:test";
import { normalizePattern, senderAllowed } from "../../../src/policy/sender-rules.ts";

/** Rules as the CLI stores them: normalized, or refused. */
const rules = (...input: string[]): string[] =>
  input.map((p) => {
    const n = normalizePattern(p);
    if (n === null) throw new Error(`rule refused: ${p}`);
    return n;
  });

describe("senderAllowed", () => {
  test("an exact rule allows that address only", () => {
    const r = rules("billing@example.com");
    expect(senderAllowed(r, "billing@example.com")).toBe(true);
    expect(senderAllowed(r, "sales@example.com")).toBe(false);
    expect(senderAllowed(r, "billing@example.net")).toBe(false);
    expect(senderAllowed(r, "xbilling@example.com")).toBe(false);
  });

  test("*@domain and a bare domain both allow any address at that domain", () => {
    for (const r of [rules("*@example.com"), rules("example.com")]) {
      expect(senderAllowed(r, "anyone@example.com")).toBe(true);
      expect(senderAllowed(r, "other.one+tag@example.com")).toBe(true);
      expect(senderAllowed(r, "anyone@example.org")).toBe(false);
      expect(senderAllowed(r, "anyone@notexample.com")).toBe(false);
    }
  });

  test("matching ignores case in rule and address", () => {
    expect(normalizePattern(" Billing@Example.COM ")).toBe("billing@example.com");
    expect(senderAllowed(rules("Billing@Example.COM"), "BILLING@example.com")).toBe(true);
    expect(senderAllowed(rules("EXAMPLE.com"), "Alice@eXample.Com")).toBe(true);
    expect(senderAllowed(rules("*@Example.com"), "a@EXAMPLE.COM")).toBe(true);
  });

  test("a domain rule does not cover its subdomains, nor a parent; a rule for the subdomain does", () => {
    const r = rules("example.com");
    expect(senderAllowed(r, "a@mail.example.com")).toBe(false);
    expect(senderAllowed(rules("*@example.com"), "a@mail.example.com")).toBe(false);
    expect(senderAllowed(rules("mail.example.com"), "a@mail.example.com")).toBe(true);
    expect(senderAllowed(rules("mail.example.com"), "a@example.com")).toBe(false);
    // There is no "*.example.com" form: it is refused rather than read as something else.
    expect(normalizePattern("*.example.com")).toBeNull();
  });

  test("a quoted local part cannot smuggle an allowed domain", () => {
    const r = rules("example.com", "alice@example.com");
    // The domain is what follows the last "@" (RFC 5321 §4.1.2: a quoted local part may hold "@").
    expect(senderAllowed(r, '"alice@example.com"@evil.test')).toBe(false);
    expect(senderAllowed(r, '"x@evil.test"@example.com')).toBe(true);
    expect(senderAllowed(r, '"john doe"@example.com')).toBe(true);
    // An exact rule matches the address as written: a quoted form is not the same rule.
    expect(senderAllowed(rules("alice@example.com"), '"alice"@example.com')).toBe(false);
    expect(senderAllowed(rules("alice@example.com"), '"alice@example.com"@example.com')).toBe(false);
  });

  test("nothing is allowed without a rule, and a malformed address never is", () => {
    expect(senderAllowed([], "alice@example.com")).toBe(false);
    const r = rules("example.com");
    expect(senderAllowed(r, "example.com")).toBe(false);
    expect(senderAllowed(r, "@example.com")).toBe(false);
    expect(senderAllowed(r, "")).toBe(false);
  });

  test("normalizePattern refuses what it cannot match", () => {
    for (const bad of ["", "@example.com", "a b@example.com", "a@", "a@-x.com", "*", "*@*", "a*@example.com", "a@b@example.com"]) {
      expect(normalizePattern(bad)).toBeNull();
    }
  });
});
