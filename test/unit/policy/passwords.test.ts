import { expect, test } from "bun:test";
import { argon2id } from "hash-wasm";
import { generatePassword, hashPassword, verifyPassword } from "../../../src/policy/passwords.ts";

test("hashes verify, wrong passwords do not", async () => {
  const h = await hashPassword("correct horse");
  expect(h).toStartWith("$argon2id$v=19$m=19456,t=2,p=1$");
  expect(await verifyPassword("correct horse", h)).toBe(true);
  expect(await verifyPassword("correct hors", h)).toBe(false);
  expect(await verifyPassword("x", "not a hash")).toBe(false);
});

test("verifies hashes in hash-wasm's own encoding (the stored format)", async () => {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const encoded = await argon2id({ password: "pw", salt, iterations: 2, memorySize: 19456, parallelism: 1, hashLength: 32, outputType: "encoded" });
  expect(await verifyPassword("pw", encoded)).toBe(true);
  expect(await verifyPassword("pw2", encoded)).toBe(false);
});

test("a generated password is 32 letters and digits: never taken for an option (a leading -), every character used", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const p = generatePassword();
    expect(p).toMatch(/^[A-Za-z0-9]{32}$/);
    for (const ch of p) seen.add(ch);
  }
  // 64 000 draws over 62 characters: each one comes up (a biased or short alphabet would not).
  expect(seen.size).toBe(62);
});
