/**
 * One configuration file for serve and every command (SMARTHOST_CONFIG): a command run by
 * hand where the service's environment is not set acts on the service's database, or
 * refuses, and never makes a new empty one.
 */
import { afterAll, expect, test } from "bun:test";
import { chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDir, tempDir } from "../support/relay.ts";

const CLI = join(import.meta.dir, "..", "..", "src", "cli.ts");
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

/** The command as run from a shell in `cwd` (a home folder) with only `env` set: no test defaults. */
async function run(cwd: string, args: string[], env: Record<string, string>) {
  const proc = Bun.spawn([process.execPath, CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? "", HOME: cwd, SMARTHOST_LOG: "silent", ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

function folders() {
  const service = tempDir("smarthost-service-");
  const home = tempDir("smarthost-home-");
  dirs.push(service, home);
  return { service, home };
}

test("a command on a database that does not exist exits 1 naming the path and what to do, and creates nothing", async () => {
  const { home } = folders();
  for (const args of [["account", "list"], ["account", "add", "acme"], ["queue"], ["route", "add", "*", "mx"]]) {
    const r = await run(home, args, { SMARTHOST_CONFIG: "" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: no database at ${join(home, "data", "smarthost.db")}`);
    expect(r.stderr).toContain("smarthost migrate");
    expect(r.stderr).toContain("SMARTHOST_CONFIG");
  }
  expect(readdirSync(home).filter((name) => name !== ".bun")).toEqual([]); // bun's own cache under HOME aside
  // migrate makes it; then the same command works.
  expect((await run(home, ["migrate"], { SMARTHOST_CONFIG: "" })).code).toBe(0);
  expect((await run(home, ["account", "add", "acme"], { SMARTHOST_CONFIG: "" })).code).toBe(0);
});

test("SMARTHOST_CONFIG: every command reads the file (quotes, comments), the environment overrides it", async () => {
  const { service, home } = folders();
  const db = join(service, "smarthost.db");
  const file = join(service, "smarthost.env");
  writeFileSync(file, `# the service's settings\nSMARTHOST_DB_URL="file:${db}"\nSMARTHOST_DATA_DIR='${join(service, "data")}'\n`);
  expect((await run(home, ["migrate"], { SMARTHOST_CONFIG: file })).stdout).toContain(`migrations applied to file:${db}`);
  expect((await run(home, ["account", "add", "acme"], { SMARTHOST_CONFIG: file })).code).toBe(0);
  const list = await run(home, ["account", "list", "--json"], { SMARTHOST_CONFIG: file });
  expect((JSON.parse(list.stdout) as { name: string }[]).map((a) => a.name)).toEqual(["acme"]);
  expect(existsSync(join(home, "data"))).toBe(false); // nothing made where the command ran

  // The environment wins over the file: here, a database that does not exist.
  const other = join(home, "other.db");
  const r = await run(home, ["account", "list"], { SMARTHOST_CONFIG: file, SMARTHOST_DB_URL: `file:${other}` });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`no database at ${other} (nothing created; configuration from ${file})`);
});

test("a bad configuration file stops the command with the file and line, never the line's text", async () => {
  const { service, home } = folders();
  const file = join(service, "smarthost.env");
  writeFileSync(file, "SMARTHOST_LOG=silent\nSMARTHOST_ADMIN_TOKEN hunter2hunter2hunter2hunter2hunter2\n");
  const r = await run(home, ["account", "list"], { SMARTHOST_CONFIG: file });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`error: ${file}, line 2: expected KEY=VALUE`);
  expect(r.stderr).not.toContain("hunter2");
  const missing = await run(home, ["account", "list"], { SMARTHOST_CONFIG: join(service, "nope.env") });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("SMARTHOST_CONFIG: cannot read");
});

test("root on another user's database folder is refused with the command to run instead, nothing created", async () => {
  // Only root can give a folder away; the tests run as root here and in CI.
  expect(process.getuid?.()).toBe(0);
  const { service, home } = folders();
  chownSync(service, 65534, 65534);
  const nobody = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.split(":")[2] === "65534")?.split(":")[0] ?? "65534";
  const env = { SMARTHOST_CONFIG: "", SMARTHOST_DB_URL: `file:${join(service, "smarthost.db")}`, SMARTHOST_DATA_DIR: join(service, "data") };
  const migrate = await run(home, ["migrate"], env);
  expect(migrate.code).toBe(1);
  expect(migrate.stderr).toContain(`error: ${service} belongs to ${nobody}: run smarthost as that user (sudo -u ${nobody} smarthost …)`);
  expect(readdirSync(service)).toEqual([]);
  // The database itself says whose it is.
  const db = join(service, "smarthost.db");
  writeFileSync(db, "");
  chownSync(db, 65534, 65534);
  const r = await run(home, ["account", "list"], env);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`error: ${db} belongs to ${nobody}`);
  expect(readdirSync(service)).toEqual(["smarthost.db"]);
});
