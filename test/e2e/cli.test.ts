/** The `smarthost` commands: stable output for scripts, clear errors, validated configuration. */
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createSecretBox } from "../../src/secrets/cipher.ts";
import { openRoutePassword } from "../../src/secrets/route-passwords.ts";
import { baseEnv, cli, cliOk, removeDir, tempDir } from "../support/relay.ts";

const dir = tempDir();
afterAll(() => removeDir(dir));

const CLI = join(import.meta.dir, "..", "..", "src", "cli.ts");

/** A command with text on its standard input (for --password-stdin). */
async function cliStdin(args: string[], stdin: string, extra: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, CLI, ...args], { env: baseEnv(dir, extra), cwd: dir, stdin: new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

const json = async (args: string[]) => JSON.parse(await cliOk(dir, [...args, "--json"])) as Record<string, unknown>[];

test("a bad configuration value stops the command and names the variable", async () => {
  const r = await cli(dir, ["queue"], { SMARTHOST_MAX_MESSAGE_BYTES: "lots", SMARTHOST_SMTP_LISTEN: "nowhere" });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("SMARTHOST_MAX_MESSAGE_BYTES must be a whole number");
  expect(r.stderr).toContain("SMARTHOST_SMTP_LISTEN must be host:port");
  const weak = await cli(dir, ["queue"], { SMARTHOST_ADMIN_TOKEN: "short" });
  expect(weak.code).toBe(1);
  expect(weak.stderr).toContain("SMARTHOST_ADMIN_TOKEN must be at least 32 characters");
});

test("account, credential, key, sender and route commands with script-friendly output", async () => {
  expect((await cli(dir, ["account", "add", "acme", "--per-minute", "10"])).code).toBe(0);
  const dup = await cli(dir, ["account", "add", "acme"]);
  expect(dup.code).toBe(1);
  expect(dup.stderr).toBe('error: account "acme" already exists\n');
  const cred = await cli(dir, ["credential", "add", "acme", "app"]);
  const password = cred.stdout.trim().split("\n").at(-1)!;
  expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
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
  // A refused URL is named in the error masked, never with its password.
  const refused = await cli(dir, ["route", "add", "example.net", "smtp://user:pa/ss@relay.test:587"]);
  expect(refused.stderr).toBe('error: "(unreadable route)" is not a route: use mx, smtp://[user:pass@]host:port or smtps://…\n');
  expect((await cli(dir, ["route", "add", "example.net", "ftp://user:hunter2@x"])).stderr).not.toContain("hunter2");
  expect((await cli(dir, ["queue"])).stdout.trim()).toBe("queue is empty");
  expect((await cli(dir, ["frobnicate"])).code).toBe(2);
});

test("lists: one JSON array each, secrets never shown", async () => {
  expect((await json(["account", "list"])).map((a) => a.name)).toContain("acme");
  const creds = await json(["credential", "list", "acme"]);
  expect(creds.map((c) => c.username).sort()).toEqual(["app", "app2"]);
  expect(JSON.stringify(creds)).not.toContain("hash");
  const keys = await json(["key", "list"]);
  expect(keys[0]).toMatchObject({ account: "acme", last_used_at: null, revoked_at: null });
  expect(keys[0]!.id).toMatch(/^[A-Za-z0-9]{8}$/);
  expect(await json(["sender", "list", "acme"])).toEqual([{ account: "acme", pattern: "*@example.com" }]);
  const routes = await json(["route", "list"]);
  expect(routes).toEqual([{ domain: "example.net", position: 0, url: "smtps://***@relay.example.net:465", per_second: null, per_minute: null, per_day: null, health: "up", down_until: null }]);
  // The text form is a table with a header line.
  expect((await cli(dir, ["account", "list"])).stdout).toMatch(/^NAME +PER_MINUTE +PER_DAY +RECIPIENTS_PER_DAY +CREATED_AT +OVER_LIMIT +HOLD_BACKLOG +LIST_UNSUBSCRIBE +REQUIRE_ALIGNMENT\nacme +10 +- +- +\S+ +refuse +- +off +false *\n/);
});

test("a password holding @ is masked whole, and may come from stdin or the environment", async () => {
  const leaky = await cli(dir, ["route", "add", "leak.test", "smtp://user:p@ssw0rd@relay.test:587"]);
  expect(leaky.code).toBe(0);
  expect(leaky.stdout).toContain("smtp://***@relay.test:587");
  expect(leaky.stdout).not.toContain("ssw0rd");
  expect(JSON.stringify(await json(["route", "list"]))).not.toContain("ssw0rd");

  const piped = await cliStdin(["route", "add", "stdin.test", "smtp://user@relay.test:587", "--password-stdin"], "pa%ss@w:rd/x\n");
  expect(piped.code).toBe(0);
  expect(piped.stdout).toContain("smtp://***@relay.test:587");
  const { createClient } = await import("@libsql/client");
  const db = createClient({ url: baseEnv(dir).SMARTHOST_DB_URL! });
  const row = (await db.execute("SELECT domain, url, secret FROM routes WHERE domain = 'stdin.test'")).rows[0]!;
  db.close();
  // Stored without the password, which is sealed; delivery opens it as given on stdin.
  expect(String(row.url)).toBe("smtp://user@relay.test:587");
  const box = await createSecretBox(readFileSync(join(baseEnv(dir).SMARTHOST_DATA_DIR!, "secret.key"), "utf8").trim());
  expect(await openRoutePassword(box, { domain: String(row.domain), url: String(row.url), secret: String(row.secret) })).toBe("pa%ss@w:rd/x");

  const env = await cli(dir, ["credential", "add", "acme", "envuser", "--password-env", "MY_SECRET"], { MY_SECRET: "from-the-environment" });
  expect(env.code).toBe(0);
  expect(env.stdout).not.toContain("from-the-environment");
  expect((await cli(dir, ["credential", "add", "acme", "x1", "--password-env", "UNSET_VAR"])).stderr).toBe("error: --password-env: UNSET_VAR is not set\n");
  expect((await cliStdin(["credential", "add", "acme", "x2", "--password-stdin", "--password", "abcdefgh"], "abcdefghij")).stderr).toContain("give the password one way");
});

test("update, rotate, revoke and remove; removal in use says what uses it", async () => {
  expect(await cliOk(dir, ["account", "update", "acme", "--per-minute", "none", "--per-day", "500"])).toBe("account acme: per-minute none, per-day 500, recipients-per-day none");
  expect((await cli(dir, ["account", "update", "acme", "--per-day", "many"])).stderr).toBe("error: --per-day must be a whole number or none\n");
  const show = JSON.parse(await cliOk(dir, ["account", "show", "acme", "--json"]));
  expect(show.usage).toEqual({ per_minute: { used: 0, limit: null }, per_day: { used: 0, limit: 500 } });
  expect(show.credentials).toContain("app");

  const rotated = await cliOk(dir, ["credential", "rotate", "app"]);
  expect(rotated).toMatch(/^[A-Za-z0-9]{32}$/);
  expect((await cli(dir, ["credential", "rotate", "ghost"])).stderr).toBe('error: no credential named "ghost"\n');
  expect(await cliOk(dir, ["credential", "remove", "app2"])).toBe("credential app2 removed");

  const id = (await json(["key", "list"]))[0]!.id as string;
  expect(await cliOk(dir, ["key", "revoke", id])).toBe(`API key ${id} of account acme revoked`);
  expect((await json(["key", "list"]))[0]!.revoked_at).toMatch(/^\d{4}-/);
  expect((await cli(dir, ["key", "revoke", id])).stderr).toBe(`error: API key ${id} is already revoked\n`);

  expect(await cliOk(dir, ["sender", "remove", "acme", "*@EXAMPLE.com"])).toBe("account acme may no longer send as *@example.com");
  expect((await cli(dir, ["sender", "remove", "acme", "*@example.com"])).code).toBe(1);
  await cliOk(dir, ["network", "allow", "acme", "192.0.2.0/24"]);
  expect(await json(["network", "list"])).toEqual([{ account: "acme", cidr: "192.0.2.0/24" }]);
  expect(await cliOk(dir, ["network", "remove", "acme", "192.0.2.0/24"])).toBe("clients in 192.0.2.0/24 no longer send as account acme");

  // Removing a route by the URL route list shows (masked): no need to type the password again.
  expect(await cliOk(dir, ["route", "remove", "leak.test", "smtp://***@relay.test:587"])).toBe("route leak.test -> smtp://***@relay.test:587 removed");
  expect((await json(["route", "list"])).map((r) => r.domain)).not.toContain("leak.test");
  // Or by the URL as it was added, password and all.
  expect(await cliOk(dir, ["route", "remove", "example.net", "smtps://user:secret@relay.example.net:465"])).toBe("route example.net -> smtps://***@relay.example.net:465 removed");
  expect((await cli(dir, ["route", "remove", "example.net", "smtps://user:secret@relay.example.net:465"])).stderr).toBe("error: no route for example.net to smtps://***@relay.example.net:465\n");

  // An account with mail in the queue: refused, naming what it has, until --force.
  await cliOk(dir, ["account", "add", "busy"]);
  await cliOk(dir, ["credential", "add", "busy", "busyuser"]);
  const { createClient } = await import("@libsql/client");
  const db = createClient({ url: baseEnv(dir).SMARTHOST_DB_URL! });
  const accountId = (await db.execute("SELECT id FROM accounts WHERE name = 'busy'")).rows[0]!.id as string;
  await db.execute({ sql: "INSERT INTO messages (id, account_id, source, mail_from, raw, size, created_at) VALUES ('m1', ?, 'smtp', 'a@example.com', x'00', 1, 1)", args: [accountId] });
  await db.execute("INSERT INTO recipients (message_id, address, domain, state, next_attempt_at, updated_at) VALUES ('m1', 'r@example.org', 'example.org', 'queued', 1, 1)");
  const refused = await cli(dir, ["account", "remove", "busy"]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('account "busy" has 1 message(s) still queued (1 recipient(s)); it also has 1 credential(s)');
  expect(refused.stderr).toContain("--force");
  const forced = await cli(dir, ["account", "remove", "busy", "--force"]);
  expect(forced.stdout).toContain("1 queued recipient(s) deleted");
  // The account's mail goes with it: the message, its recipients and its trace.
  for (const table of ["messages WHERE id", "recipients WHERE message_id", "events WHERE message_id"]) {
    expect([table, Number((await db.execute(`SELECT count(*) AS n FROM ${table} = 'm1'`)).rows[0]!.n)]).toEqual([table, 0]);
  }
  expect(Number((await db.execute({ sql: "SELECT count(*) AS n FROM smtp_credentials WHERE account_id = ?", args: [accountId] })).rows[0]!.n)).toBe(0);
  db.close();
  expect((await json(["account", "list"])).map((a) => a.name)).not.toContain("busy");
});

test("each command has --help; typos suggest the nearest command; usage errors exit 2", async () => {
  const help = await cli(dir, ["key", "revoke", "--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toStartWith("usage: smarthost key revoke KEY_ID\n");
  expect((await cli(dir, ["queue", "delete", "--help"])).stdout).toContain("--bounce");
  const typo = await cli(dir, ["acount", "list"]);
  expect(typo.code).toBe(2);
  expect(typo.stderr).toContain("did you mean account list?");
  expect((await cli(dir, ["queue", "shw", "X"])).stderr).toContain("did you mean queue show?");
  expect((await cli(dir, ["credential", "rotat", "x"])).stderr).toContain("did you mean credential rotate?");
  const missing = await cli(dir, ["sender", "remove", "acme"]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toBe("error: missing arguments\nusage: smarthost sender remove ACCOUNT PATTERN\n");
  const bad = await cli(dir, ["key", "list", "--bogus"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toStartWith('error: unknown option "--bogus" for key list\n');
  expect((await cli(dir, ["--help"])).stdout).toContain("queue release [ID]");
});
