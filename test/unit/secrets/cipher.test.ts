import { expect, test } from "bun:test";
import { Failure } from "../../../src/core/failure.ts";
import { createSecretBox, generateSecretKey, isSealed, parseSecretKey } from "../../../src/secrets/cipher.ts";
import { base64ToBytes, bytesToBase64 } from "../../../src/util/bytes.ts";

test("seals and opens a secret; the sealed form holds no clear text", async () => {
  const box = await createSecretBox(generateSecretKey());
  const sealed = await box.seal("p@ss:w0rd/é", "route:1");
  expect(isSealed(sealed)).toBe(true);
  expect(sealed).not.toContain("p@ss");
  expect(await box.open(sealed, "route:1")).toBe("p@ss:w0rd/é");
});

test("two seals of one secret differ (fresh IV each time)", async () => {
  const box = await createSecretBox(generateSecretKey());
  expect(await box.seal("x", "p")).not.toBe(await box.seal("x", "p"));
});

test("refuses another key, another purpose and an altered byte", async () => {
  const box = await createSecretBox(generateSecretKey());
  const other = await createSecretBox(generateSecretKey());
  const sealed = await box.seal("secret", "dkim:example.com");
  await expect(other.open(sealed, "dkim:example.com")).rejects.toMatchObject({ kind: "config", code: "secret_key" });
  await expect(box.open(sealed, "route:1")).rejects.toMatchObject({ kind: "config", code: "secret_key" });
  const bytes = base64ToBytes(sealed.slice("enc:v1:".length));
  bytes[bytes.length - 1]! ^= 1;
  await expect(box.open("enc:v1:" + bytesToBase64(bytes), "dkim:example.com")).rejects.toMatchObject({ kind: "config", code: "secret_key" });
  await expect(box.open("secret", "dkim:example.com")).rejects.toMatchObject({ kind: "config", code: "secret_key" });
});

test("the key must be 32 bytes of base64", () => {
  expect(() => parseSecretKey("not base64!")).toThrow(Failure);
  expect(() => parseSecretKey(bytesToBase64(new Uint8Array(16)))).toThrow(/32 bytes/);
  expect(parseSecretKey(generateSecretKey()).length).toBe(32);
});
