import { expect, test } from "bun:test";
import { encodeData } from "../../../src/delivery/encode.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

test("dot-stuffs, keeps CRLF lines and ends with CRLF.CRLF", () => {
  expect(dec(encodeData(enc("a\r\n.b\r\n..\r\n.\r\n")))).toBe("a\r\n..b\r\n...\r\n..\r\n.\r\n");
});

test("turns bare LF and CR into CRLF and adds the last CRLF", () => {
  expect(dec(encodeData(enc("a\nb\rc")))).toBe("a\r\nb\r\nc\r\n.\r\n");
});

test("an empty message is just the terminator", () => {
  expect(dec(encodeData(new Uint8Array(0)))).toBe(".\r\n");
});

test("never emits a line over 998 octets", () => {
  const out = dec(encodeData(enc(`${"x".repeat(2500)}\r\n.${"y".repeat(1200)}\r\n`)));
  for (const line of out.split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
  expect(out.replace(/\r\n/g, "")).toBe(`${"x".repeat(2500)}..${"y".repeat(1200)}.`);
});
