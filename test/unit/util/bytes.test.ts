import { expect, test } from "bun:test";
import { concat, constantTimeEqual } from "../../../src/util/bytes.ts";
import { sha256Hex } from "../../../src/util/hash.ts";

test("concat joins parts in order and hands a single part back uncopied", () => {
  const a = new Uint8Array([1, 2]);
  expect([...concat([a, new Uint8Array([]), new Uint8Array([3])])]).toEqual([1, 2, 3]);
  expect(concat([a])).toBe(a);
  expect([...concat([a, a], 4)]).toEqual([1, 2, 1, 2]);
});

test("constantTimeEqual compares whole strings, lengths included", () => {
  expect(constantTimeEqual("token", "token")).toBe(true);
  expect(constantTimeEqual("token", "tokeN")).toBe(false);
  expect(constantTimeEqual("token", "token2")).toBe(false);
  expect(constantTimeEqual("", "")).toBe(true);
});

test("sha256Hex gives the FIPS 180-2 digest of the UTF-8 text", async () => {
  expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});
