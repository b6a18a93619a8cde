/**
 * A command line smarthost does not understand: the help or the nearest right spelling on
 * stderr, exit 2, nothing done; no command at all: the help, exit 1. (1 is otherwise for a
 * command that ran and failed; README "Commands".)
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cli, cliOk, removeDir, tempDir } from "../support/relay.ts";

let dir = "";
beforeAll(async () => {
  dir = tempDir();
  await cliOk(dir, ["migrate"]);
});
afterAll(() => removeDir(dir));

test("no arguments: the list of commands on stderr and exit 1; --help: on stdout and exit 0", async () => {
  const none = await cli(dir, []);
  expect([none.code, none.stdout]).toEqual([1, ""]);
  expect(none.stderr).toStartWith("usage: smarthost <command> [--help]\n");
  expect(none.stderr).toContain("\n  account list ");
  const help = await cli(dir, ["--help"]);
  expect([help.code, help.stderr]).toEqual([0, ""]);
  expect(help.stdout).toBe(none.stderr);
});

test("a mistyped option: did you mean the command's nearest option, exit 2, nothing done", async () => {
  const typo = await cli(dir, ["account", "add", "typo-co", "--per-minit", "5"]);
  expect(typo).toEqual({
    code: 2,
    stdout: "",
    stderr: 'error: unknown option "--per-minit" for account add; did you mean --per-minute?\nusage: smarthost account add NAME [--per-minute N] [--per-day N] [--recipients-per-day N]\n',
  });
  expect(await cliOk(dir, ["account", "list"])).toBe("no accounts");
  const json = await cli(dir, ["queue", "--jsno"]);
  expect([json.code, json.stderr.split("\n")[0]]).toEqual([2, 'error: unknown option "--jsno" for queue; did you mean --json?']);
  const far = await cli(dir, ["key", "list", "--frobnicate"]);
  expect([far.code, far.stderr]).toEqual([2, 'error: unknown option "--frobnicate" for key list\nusage: smarthost key list [ACCOUNT] [--json]\n']);
});

test("every other usage mistake exits 2 too: unknown command, a command missing, an argument missing or extra, an option without its value", async () => {
  const cases: [string[], string][] = [
    [["acount", "list"], 'error: unknown command "acount list"; did you mean account list?'],
    [["key"], 'error: "key" needs a command: key add, key list, key revoke'],
    [["sender", "remove", "acme"], "error: missing arguments"],
    [["key", "revoke", "a", "b"], 'error: unexpected argument "b"'],
    [["account", "update", "acme", "--per-day"], "error: --per-day needs a value"],
    [["queue", "--json=yes"], "error: --json takes no value"],
  ];
  for (const [args, first] of cases) {
    const r = await cli(dir, args);
    expect([args, r.code, r.stdout, r.stderr.split("\n")[0]]).toEqual([args, 2, "", first]);
  }
  // A command that ran and failed is 1, not 2.
  const failed = await cli(dir, ["account", "update", "nobody", "--per-day", "5"]);
  expect([failed.code, failed.stderr]).toEqual([1, 'error: no account named "nobody"\n']);
});
