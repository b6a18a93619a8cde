/** encodeData with native scans and run copies gives, byte for byte, what the per-byte encoder gave. */
import { expect, test } from "bun:test";
import { encodeDataPerByte } from "../../../bench/micro/encode-reference.ts";
import { encodeData, encodeDataParts, hasEightBit } from "../../../src/delivery/encode.ts";
import { random } from "../../support/random.ts";

test("2 000 random messages: CRLF, lone CR and LF, leading dots, lines of 997–1 000 and 3 000 octets, with and without a final line break", () => {
  const pieces = ["\r\n", "\r", "\n", ".", "..", "a", "xyz ", "\r\n.", "\r\n\r\n", "x".repeat(997), "y".repeat(998), "z".repeat(999), "w".repeat(3000), ".".repeat(1000)];
  const next = random(0x5eed);
  for (let k = 0; k < 2000; k++) {
    let s = "";
    const count = next(30);
    for (let j = 0; j < count; j++) s += pieces[next(pieces.length)];
    const m = new TextEncoder().encode(s);
    const got = Buffer.from(encodeData(m));
    const want = Buffer.from(encodeDataPerByte(m));
    if (!got.equals(want)) expect({ input: JSON.stringify(s), got: got.toString("latin1") }).toEqual({ input: JSON.stringify(s), got: want.toString("latin1") });
    // The parts written one after the other are the same bytes.
    const parts = Buffer.concat(encodeDataParts(m));
    if (!parts.equals(want)) expect({ input: JSON.stringify(s), got: parts.toString("latin1") }).toEqual({ input: JSON.stringify(s), got: want.toString("latin1") });
  }
});

test("a message that needs no change is written as it is stored, then the terminator: no copy", () => {
  const m = new TextEncoder().encode(`From: a@example.com\r\n\r\n${"line of text\r\n".repeat(10_000)}`);
  const parts = encodeDataParts(m);
  expect(parts.length).toBe(2);
  expect(parts[0]).toBe(m);
  expect(new TextDecoder().decode(parts[1])).toBe(".\r\n");
  // A leading dot (or a bare LF, or a long line) needs changing: one encoded copy.
  const dotted = new TextEncoder().encode("a\r\n.b\r\n");
  expect(encodeDataParts(dotted).map((p) => new TextDecoder().decode(p))).toEqual(["a\r\n..b\r\n.\r\n"]);
  expect(encodeDataParts(new Uint8Array(0)).map((p) => new TextDecoder().decode(p))).toEqual([".\r\n"]);
  // A small message is joined with the terminator: one write costs less than two.
  expect(encodeDataParts(new TextEncoder().encode("Subject: s\r\n\r\nhi\r\n")).map((p) => new TextDecoder().decode(p))).toEqual(["Subject: s\r\n\r\nhi\r\n.\r\n"]);
});

test("hasEightBit: any octet ≥ 0x80 anywhere, none in ASCII or an empty message", () => {
  const big = new Uint8Array(100 * 1024).fill(0x61);
  expect(hasEightBit(big)).toBe(false);
  expect(hasEightBit(new Uint8Array(0))).toBe(false);
  for (const at of [0, 1, 50_000, big.length - 1]) {
    const m = big.slice();
    m[at] = 0x80;
    expect(hasEightBit(m)).toBe(true);
    m[at] = 0x7f;
    expect(hasEightBit(m)).toBe(false);
  }
  expect(hasEightBit(new TextEncoder().encode("Grüße").subarray(2, 4))).toBe(true);
  expect(hasEightBit(new TextEncoder().encode("xxGrüße").subarray(0, 3))).toBe(false);
});
