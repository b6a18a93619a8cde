import { expect, test } from "bun:test";
import { normalizeLineEndings } from "../../../src/mime/line-endings.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

test("a message already in CRLF lines of at most 998 octets comes back as it is, uncopied", () => {
  for (const s of ["", "a\r\n", "Subject: x\r\n\r\nbody\r\n", `${"x".repeat(998)}\r\n\r\n`]) {
    const input = enc(s);
    expect(normalizeLineEndings(input)).toBe(input);
  }
});

test("bare LF, bare CR and a missing final line break become CRLF", () => {
  const cases: [string, string][] = [
    ["a\nb\n", "a\r\nb\r\n"],
    ["a\rb\r", "a\r\nb\r\n"],
    ["a\r\nb", "a\r\nb\r\n"],
    ["\n", "\r\n"],
    ["a\r\n\nb\r\n", "a\r\n\r\nb\r\n"],
    ["a\r\r\nb\r\n", "a\r\n\r\nb\r\n"],
    ["a\rb\r\n", "a\r\nb\r\n"],
    ["a\r\n\r", "a\r\n\r\n"],
  ];
  for (const [input, want] of cases) expect(text(normalizeLineEndings(enc(input)))).toBe(want);
});

test("a line over 998 octets is refused, whatever its line ending", () => {
  for (const end of ["\r\n", "\n", "\r", ""]) {
    expect(normalizeLineEndings(enc(`ok\r\n${"x".repeat(999)}${end}next\r\n`))).toBeNull();
    expect(normalizeLineEndings(enc(`${"x".repeat(998)}${end}`))).not.toBeNull();
  }
});
