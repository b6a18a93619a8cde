import { describe, expect, test } from "bun:test";
import { parsePath } from "../../../src/smtp/address.ts";

describe("parsePath (RFC 5321 §4.1.2)", () => {
  const ok: [string, string | null, boolean?][] = [
    ["<user@example.com>", "user@example.com"],
    ["<>", null],
    ['<"john doe"@example.com>', '"john doe"@example.com'],
    ['<"a\\"b"@example.com>', '"a\\"b"@example.com'],
    ["<user@[192.0.2.1]>", "user@[192.0.2.1]"],
    ["<user@[IPv6:2001:db8::1]>", "user@[IPv6:2001:db8::1]"],
    ["<@relay.one,@relay.two:user@example.com>", "user@example.com"],
    ["<a%b@example.com>", "a%b@example.com"],
    ["<host!user@example.com>", "host!user@example.com"],
    ["<δοκιμή@παράδειγμα.δοκιμή>", "δοκιμή@παράδειγμα.δοκιμή", true],
  ];
  for (const [input, address, utf8] of ok) {
    test(`accepts ${input}`, () => {
      const r = parsePath(input, { allowNull: true, utf8: utf8 ?? false });
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.mailbox?.address ?? null).toBe(address);
    });
  }

  const bad: [string, string][] = [
    ["user@example.com", "no angle brackets"],
    ["<user>", "no domain"],
    ["<user@>", "empty domain"],
    ["<user@-bad.com>", "label starts with hyphen"],
    ["<us er@example.com>", "space in local part"],
    ["<a..b@example.com>", "empty atom"],
    [`<${"l".repeat(65)}@example.com>`, "local part over 64 octets"],
    ["<user@[300.1.1.1]>", "bad IPv4 literal"],
    ["<user@[IPv6:1:2:3:4:5:6:7:8:9]>", "bad IPv6 literal"],
    ["<user@example.com>junk", "garbage after the path"],
    ["<@bad:user@example.com", "unterminated"],
  ];
  for (const [input, why] of bad) {
    test(`refuses ${why}`, () => {
      expect(parsePath(input, { allowNull: true, utf8: false }).ok).toBe(false);
    });
  }

  test("refuses a non-ASCII address without SMTPUTF8", () => {
    const r = parsePath("<δοκιμή@example.com>", { allowNull: true, utf8: false });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe("utf8");
  });

  test("refuses the null path where it is not allowed", () => {
    expect(parsePath("<>", { allowNull: false, utf8: false }).ok).toBe(false);
  });

  test("returns the parameters after the path", () => {
    const r = parsePath("<a@b.c> SIZE=10 BODY=8BITMIME", { allowNull: true, utf8: false });
    expect(r.ok && r.rest).toBe("SIZE=10 BODY=8BITMIME");
  });
});
