import { expect, test } from "bun:test";
import { base64ToBytes, concat, constantTimeEqual } from "../../../src/util/bytes.ts";
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

test("base64ToBytes decodes as atob does: padded or not, whitespace skipped, anything else outside the alphabet refused", () => {
  const viaAtob = (s: string) => [...atob(s + "=".repeat((4 - (s.length % 4)) % 4))].map((c) => c.charCodeAt(0));
  const all = new Uint8Array(256).map((_, i) => i);
  const b64 = btoa(String.fromCharCode(...all));
  expect([...base64ToBytes(b64)]).toEqual([...all]);
  for (const s of ["", "QQ", "QQ==", "QUI", "QUJD", "QUJD\r\nRA", " QUJDRA ", "QUJDRA"]) expect([...base64ToBytes(s)]).toEqual(viaAtob(s));
  for (const s of ["a", "QQ===", "-_-_", "QU!D", "QUJD=", "Q=Q="]) {
    expect(() => viaAtob(s)).toThrow();
    expect(() => base64ToBytes(s)).toThrow();
  }
});
