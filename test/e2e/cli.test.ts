/** The `smarthost` commands: stable output for scripts, clear errors, validated configuration. */
import { afterAll, expect, test } from "bun:test";
import { cli, removeDir, tempDir } from "../support/relay.ts";

const dir = tempDir();
afterAll(() => removeDir(dir));

test("a bad configuration value stops the command and names the variable", async () => {
  const r = await cli(dir, ["queue"], { SMARTHOST_MAX_MESSAGE_BYTES: "lots", SMARTHOST_SMTP_LISTEN: "nowhere" });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("SMARTHOST_MAX_MESSAGE_BYTES must be a whole number");
  expect(r.stderr).toContain("SMARTHOST_SMTP_LISTEN must be host:port");
});

test("account, credential, key, sender and route commands with script-friendly output", async () => {
  expect((await cli(dir, ["account", "add", "acme", "--per-minute", "10"])).code).toBe(0);
  const dup = await cli(dir, ["account", "add", "acme"]);
  expect(dup.code).toBe(1);
  expect(dup.stderr).toBe('error: account "acme" already exists\n');
  const cred = await cli(dir, ["credential", "add", "acme", "app"]);
  const password = cred.stdout.trim().split("\n").at(-1)!;
  expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
  const given = await cli(dir, ["credential", "add", "acme", "app2", "--password", "chosen-password"]);
  expect(given.stdout).not.toContain("chosen-password");
  const key = (await cli(dir, ["key", "add", "acme"])).stdout.trim().split("\n").at(-1)!;
  expect(key).toMatch(/^sh_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
  expect((await cli(dir, ["key", "add", "nobody"])).stderr).toBe('error: no account named "nobody"\n');
  expect((await cli(dir, ["sender", "allow", "acme", "*@Example.COM"])).stdout).toContain("*@example.com");
  expect((await cli(dir, ["sender", "allow", "acme", "not a pattern"])).code).toBe(1);
  const route = await cli(dir, ["route", "add", "example.net", "smtps://user:secret@relay.example.net:465"]);
  expect(route.stdout).toContain("smtps://***@relay.example.net:465");
  expect(route.stdout).not.toContain("secret");
  expect((await cli(dir, ["route", "add", "example.net", "ftp://x"])).code).toBe(1);
  expect((await cli(dir, ["queue"])).stdout.trim()).toBe("queue is empty");
  expect((await cli(dir, ["frobnicate"])).code).toBe(2);
});
