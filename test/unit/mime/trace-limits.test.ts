import { describe, expect, test } from "bun:test";
import { MAX_HEADER_BYTES, MAX_HOPS, traceProblem } from "../../../src/mime/trace-limits.ts";

const msg = (header: string, body = "body\r\n") => new TextEncoder().encode(`${header}\r\n${body}`);
const received = (n: number) => "Received: from a.test by b.test;\r\n\tSun, 29 Nov 2026 07:00:00 +0000\r\n".repeat(n);

describe("hop count (RFC 5321 §6.3)", () => {
  test(`refuses at ${MAX_HOPS} Received: fields, not below`, () => {
    expect(traceProblem(msg(received(MAX_HOPS - 1) + "From: a@example.com\r\n"))).toBeNull();
    expect(traceProblem(msg(received(MAX_HOPS) + "From: a@example.com\r\n"))).toEqual({ kind: "too-many-hops", hops: MAX_HOPS });
  });

  test("counts the field name in any case, and only in the header block", () => {
    const header = "RECEIVED: x\r\nreceived : y\r\n" + received(MAX_HOPS - 3);
    expect(traceProblem(msg(header))).toBeNull();
    expect(traceProblem(msg(header + "Received: z\r\n"))).toEqual({ kind: "too-many-hops", hops: MAX_HOPS });
    expect(traceProblem(msg("From: a@example.com\r\n", received(200)))).toBeNull();
  });

  test("a folded line that merely contains the word is not a field", () => {
    expect(traceProblem(msg(`Subject: x\r\n${" Received: no\r\n".repeat(100)}`))).toBeNull();
  });
});

describe("header size", () => {
  // 1 024 lines of 100 octets: exactly the limit.
  const line = `X-Filler: ${"x".repeat(88)}\r\n`;
  const filler = (bytes: number) => line.repeat(bytes / line.length);

  test(`accepts a header block of ${MAX_HEADER_BYTES} octets and refuses one more`, () => {
    const exact = filler(MAX_HEADER_BYTES);
    expect(new TextEncoder().encode(exact).length).toBe(MAX_HEADER_BYTES);
    expect(traceProblem(msg(exact))).toBeNull();
    expect(traceProblem(msg(`${exact}A: b\r\n`))).toEqual({ kind: "header-too-large", limit: MAX_HEADER_BYTES });
  });

  test("a large body after a small header is no header problem; a message with no empty line is all header", () => {
    expect(traceProblem(msg("From: a@example.com\r\n", "x\r\n".repeat(100_000)))).toBeNull();
    expect(traceProblem(new TextEncoder().encode("x: y\r\n".repeat(20_000)))).toEqual({ kind: "header-too-large", limit: MAX_HEADER_BYTES });
    expect(traceProblem(new TextEncoder().encode("\r\nno header at all\r\n"))).toBeNull();
  });
});
