/**
 * The header scans with a native search for the empty line give what the per-byte loops
 * gave (bench/micro/headers-reference.ts): hop count, header size and header values.
 */
import { describe, expect, test } from "bun:test";
import { headerValuesReference, traceProblemReference } from "../../../bench/micro/headers-reference.ts";
import { blankLineAt, headerValues } from "../../../src/mime/headers.ts";
import { MAX_HEADER_BYTES, traceProblem } from "../../../src/mime/trace-limits.ts";
import { random } from "../../support/random.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe("blankLineAt", () => {
  test("finds the first CRLF CRLF, only within the octets it may look at", () => {
    expect(blankLineAt(latin1("a: b\r\n\r\nbody\r\n\r\n"))).toBe(4);
    expect(blankLineAt(latin1("\r\n\r\n"))).toBe(0);
    expect(blankLineAt(latin1("a: b\r\n\r\nbody"), 7)).toBe(-1);
    expect(blankLineAt(latin1("a: b\r\n\r\nbody"), 8)).toBe(4);
    expect(blankLineAt(latin1("a: b\r\n\rX\n\r\n"))).toBe(-1);
    expect(blankLineAt(latin1("\r\n\r"))).toBe(-1);
    // A view into a larger buffer is searched from its own start.
    const whole = latin1("\r\n\r\nX: y\r\n\r\nz");
    expect(blankLineAt(whole.subarray(4))).toBe(4);
  });
});

describe("header scans as the per-byte reference", () => {
  const pieces = ["\r\n", "\r\n\r\n", "\r", "\n", "Received: x\r\n", "received :y\r\n", " Received: folded\r\n", "Smarthost-Idempotency-Key: k1\r\n", "smarthost-idempotency-key:\r\n k2\r\n", "From: a@example.com\r\n", "Gr\xfc\xdfe: \xff\r\n", "x".repeat(500)];

  test("5 000 random header blocks", () => {
    const next = random(0x4ead);
    for (let k = 0; k < 5000; k++) {
      let s = "";
      for (let j = next(40); j > 0; j--) s += pieces[next(pieces.length)];
      const m = latin1(s);
      expect({ s, trace: traceProblem(m), values: headerValues(m, "Smarthost-Idempotency-Key") }).toEqual({
        s,
        trace: traceProblemReference(m),
        values: headerValuesReference(m, "Smarthost-Idempotency-Key"),
      });
    }
  });

  test("the empty line on each side of the header size limit", () => {
    const line = `X-Filler: ${"x".repeat(88)}\r\n`;
    for (const extra of [-3, -2, -1, 0, 1, 2, 3, 4, 5]) {
      const header = line.repeat(MAX_HEADER_BYTES / line.length - 1) + `X: ${"y".repeat(95 + extra)}\r\n`;
      const m = latin1(`${header}\r\nbody\r\n`);
      expect(traceProblem(m)).toEqual(traceProblemReference(m));
    }
  });
});
