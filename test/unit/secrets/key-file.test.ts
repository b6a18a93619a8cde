import { afterEach, expect, test } from "bun:test";
import { Failure } from "../../../src/core/failure.ts";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../../src/config.ts";
import { generateSecretKey, secretBoxFromRequiredKey } from "../../../src/secrets/cipher.ts";
import { loadOrCreateSecretKey, secretBoxFromConfig } from "../../../src/runtime/secret-key-file.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

let dir = "";
afterEach(() => {
  if (dir) removeDir(dir);
  dir = "";
});

const mode = (path: string) => statSync(path).mode & 0o777;

test("without SMARTHOST_SECRET_KEY a key is made under the data folder (0600, folder 0700) and reused", async () => {
  dir = tempDir();
  const data = join(dir, "data");
  const first = await loadOrCreateSecretKey(data);
  expect(Buffer.from(first, "base64").length).toBe(32);
  expect(mode(join(data, "secret.key"))).toBe(0o600);
  expect(mode(data)).toBe(0o700);
  expect(await loadOrCreateSecretKey(data)).toBe(first);
  // What one box seals, the next start's box opens.
  const sealed = await (await secretBoxFromConfig({ SMARTHOST_SECRET_KEY: undefined, SMARTHOST_DATA_DIR: data })).seal("pw", "route:x");
  expect(await (await secretBoxFromConfig({ SMARTHOST_SECRET_KEY: first, SMARTHOST_DATA_DIR: join(dir, "elsewhere") })).open(sealed, "route:x")).toBe("pw");
});

test("an existing data folder is closed to others; processes starting together agree on one key", async () => {
  dir = tempDir();
  const data = join(dir, "data");
  mkdirSync(data, { mode: 0o755 });
  const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateSecretKey(data)));
  expect(new Set(keys).size).toBe(1);
  expect(mode(data)).toBe(0o700);
});

test("a configured key is used as it is: nothing is written", async () => {
  dir = tempDir();
  const key = generateSecretKey();
  const box = await secretBoxFromConfig({ SMARTHOST_SECRET_KEY: key, SMARTHOST_DATA_DIR: join(dir, "data") });
  expect(await box.open(await box.seal("s", "p"), "p")).toBe("s");
  expect(existsSync(join(dir, "data"))).toBe(false);
});

test("a damaged key file stops start-up without repeating its contents", async () => {
  dir = tempDir();
  writeFileSync(join(dir, "secret.key"), "c2hvcnQta2V5LXZhbHVl\n", { mode: 0o600 });
  const err = await loadOrCreateSecretKey(dir).catch((e: unknown) => e);
  expect(err).toMatchObject({ kind: "config", code: "secret_key" });
  expect(String(err)).toContain("secret.key");
  expect(String(err)).toContain("32 bytes");
  expect(String(err)).not.toContain("c2hvcnQta2V5LXZhbHVl");
  // The file is left as it was: a new key would strand every secret sealed with the old one.
  expect(readFileSync(join(dir, "secret.key"), "utf8")).toBe("c2hvcnQta2V5LXZhbHVl\n");
});

test("SMARTHOST_SECRET_KEY is validated with the configuration, and never echoed", () => {
  expect(loadConfig({ SMARTHOST_SECRET_KEY: generateSecretKey() }).SMARTHOST_SECRET_KEY).toBeDefined();
  expect(loadConfig({}).SMARTHOST_SECRET_KEY).toBeUndefined();
  const short = Buffer.alloc(16, 7).toString("base64");
  expect(() => loadConfig({ SMARTHOST_SECRET_KEY: short })).toThrow(Failure);
  expect(() => loadConfig({ SMARTHOST_SECRET_KEY: short })).toThrow(/SMARTHOST_SECRET_KEY must be 32 bytes \(base64\), not 16/);
  expect(() => loadConfig({ SMARTHOST_SECRET_KEY: "not base64!" })).toThrow(/SMARTHOST_SECRET_KEY must be base64/);
  try {
    loadConfig({ SMARTHOST_SECRET_KEY: short });
  } catch (err) {
    expect(String(err)).not.toContain(short);
  }
});

test("where the key must be configured (Workers), its absence is refused with a clear message", async () => {
  const err = await secretBoxFromRequiredKey(undefined, "on Workers").catch((e: unknown) => e);
  expect(err).toMatchObject({ kind: "config", code: "secret_key" });
  expect(String(err)).toContain("SMARTHOST_SECRET_KEY is required on Workers");
  const box = await secretBoxFromRequiredKey(generateSecretKey(), "on Workers");
  expect(await box.open(await box.seal("x", "p"), "p")).toBe("x");
});
