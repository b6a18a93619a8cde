/** The verified-credential cache: argon2id once per credential and password for a while, never for a wrong password. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { ARGON2_WASM_PATH } from "../../../scripts/argon2-wasm.ts";
import { hashPassword, useArgon2Module, verifyPassword } from "../../../src/policy/passwords.ts";
import { cachedPasswordCheck } from "../../../src/policy/verified-cache.ts";
import { gatewayFixture } from "./gateway-fixture.ts";
import { Failure } from "../../../src/core/failure.ts";

test("a right password is checked once, then answered from the cache until it expires; wrong ones are always checked", async () => {
  let checks = 0;
  let t = 1_000;
  const check = cachedPasswordCheck((p, e) => (checks++, verifyPassword(p, e)), { ttlMs: 60_000, now: () => t });
  const stored = await hashPassword("right one");
  expect(await check("right one", stored)).toBe(true);
  expect(await check("right one", stored)).toBe(true);
  expect(checks).toBe(1);
  for (let i = 0; i < 3; i++) expect(await check("wrong one", stored)).toBe(false);
  expect(checks).toBe(4);
  expect(check.size()).toBe(1);
  // A changed password is a new stored hash: the old password does not ride on the cache.
  const changed = await hashPassword("new one");
  expect(await check("right one", changed)).toBe(false);
  expect(await check("new one", changed)).toBe(true);
  expect(checks).toBe(6);
  t += 60_001;
  expect(await check("right one", stored)).toBe(true);
  expect(checks).toBe(7);
});

test("bounded: the oldest entry goes when full", async () => {
  let checks = 0;
  const check = cachedPasswordCheck(async () => (checks++, true), { max: 2 });
  for (const p of ["a", "b", "c"]) await check(p, "$h");
  expect(check.size()).toBe(2);
  await check("c", "$h");
  expect(checks).toBe(3);
  await check("a", "$h");
  expect(checks).toBe(4);
});

test("the gateway's SMTP AUTH runs argon2id once for a client that logs in on every session, and on every wrong password", async () => {
  const fx = await gatewayFixture();
  // Every argon2id check on the bundled module makes one instance: count them.
  const { instantiate } = WebAssembly;
  let hashed = 0;
  Object.assign(WebAssembly, { instantiate: (...a: unknown[]) => (hashed++, (instantiate as (...x: unknown[]) => unknown)(...a)) });
  useArgon2Module(new WebAssembly.Module(readFileSync(ARGON2_WASM_PATH)));
  try {
    for (let i = 0; i < 3; i++) expect(await fx.gateway.auth.authenticateSmtp("127.0.0.9", "app1", "right password", "")).toEqual({ username: "app1", accountId: "acct" });
    expect(hashed).toBe(1);
    for (let i = 0; i < 2; i++) expect(await fx.gateway.auth.authenticateSmtp("127.0.0.9", "app1", "wrong password", "").catch((e: Failure) => e.kind)).toBe("unauthenticated");
    expect(hashed).toBe(3);
  } finally {
    useArgon2Module(null);
    Object.assign(WebAssembly, { instantiate });
    fx.close();
  }
});
