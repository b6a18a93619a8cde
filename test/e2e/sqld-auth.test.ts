/**
 * The README's "Several nodes" setup: `smarthost db token DIR` makes the key sqld checks
 * (--auth-jwt-key-file) and a token; with SMARTHOST_DB_AUTH_TOKEN a node migrates, serves
 * and stores mail on that sqld; without it the server refuses and so does the command.
 */
import { afterAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { cli, cliOk, removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";
import { startSqld, type Sqld } from "../support/sqld.ts";

const dir = tempDir();
let sqld: Sqld | null = null;
let relay: Relay | null = null;
afterAll(async () => {
  await relay?.stop();
  await sqld?.stop();
  removeDir(dir);
});

test("db token: sqld checks it, a node with it works, a node without it is refused", async () => {
  const keys = join(dir, "keys");
  const made = await cli(dir, ["db", "token", keys]);
  expect(made.code).toBe(0);
  const token = made.stdout.trim().split("\n").at(-1)!;
  expect(token).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(statSync(join(keys, "jwt-private.pem")).mode & 0o777).toBe(0o600);
  // A second run signs another token with the same key.
  const again = await cli(dir, ["db", "token", keys]);
  expect(again.stdout).toContain("signed with");

  sqld = await startSqld(dir, ["--auth-jwt-key-file", join(keys, "jwt.pem")]);
  const without = await cli(dir, ["migrate"], { SMARTHOST_DB_URL: sqld.url });
  expect(without.code).toBe(1);
  expect(without.stderr).toMatch(/401|Unauthorized|auth/i);
  expect(without.stderr).not.toContain(token);

  const env = { SMARTHOST_DB_URL: sqld.url, SMARTHOST_DB_AUTH_TOKEN: token };
  await cliOk(dir, ["migrate"], env);
  await cliOk(dir, ["account", "add", "acme"], env);
  await cliOk(dir, ["sender", "allow", "acme", "example.com"], env);
  const key = await cliOk(dir, ["key", "add", "acme"], env);
  relay = await startRelay(dir, env);
  const res = await fetch(`${relay.http}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ from: "app@example.com", to: ["x@dest.test"], subject: "s", text: "t" }) });
  expect(res.status).toBe(202);
  expect(relay.logs()).not.toContain(token);
}, 60_000);
