import { expect, test } from "bun:test";
import { apiKeyHash, apiKeyId, apiKeyMatches, generateApiKey } from "../../../src/policy/api-keys.ts";
import { sha256Hex } from "../../../src/util/hash.ts";

test("a key's stored hash is the SHA-256 hex of the whole key, as api_keys.key_hash has always held", async () => {
  const k = await generateApiKey();
  expect(k.hash).toBe(await sha256Hex(k.key));
  expect(apiKeyHash("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
});

test("a presented key matches its own stored hash only", async () => {
  const k = await generateApiKey();
  const other = await generateApiKey();
  expect(apiKeyId(k.key)).toBe(k.id);
  expect(apiKeyMatches(k.key, k.hash)).toBe(true);
  // A hash written by the WebCrypto digest earlier versions used still matches.
  expect(apiKeyMatches(k.key, await sha256Hex(k.key))).toBe(true);
  expect(apiKeyMatches(other.key, k.hash)).toBe(false);
  expect(apiKeyMatches(`${k.key.slice(0, -1)}${k.key.endsWith("A") ? "B" : "A"}`, k.hash)).toBe(false);
});
