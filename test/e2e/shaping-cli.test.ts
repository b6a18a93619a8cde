/** The traffic-shaping commands: route quotas on add and update, shown by route list. */
import { afterAll, expect, test } from "bun:test";
import { cli, cliOk, removeDir, tempDir } from "../support/relay.ts";

const dir = tempDir();
afterAll(() => removeDir(dir));

const json = async (args: string[]) => JSON.parse(await cliOk(dir, [...args, "--json"])) as Record<string, unknown>[];

test("route add --per-second/--per-minute/--per-day stores the provider plan; route update changes it; bad values are refused", async () => {
  const added = await cliOk(dir, ["route", "add", "*", "smtp://user:secret@relay-a.test:587", "--per-second", "14", "--per-day", "50000"]);
  expect(added).toContain("per-second 14, per-day 50000");
  expect(added).not.toContain("secret");
  await cliOk(dir, ["route", "add", "*", "smtp://relay-b.test:25"]);
  expect((await json(["route", "list"])).map((r) => [r.url, r.per_second, r.per_minute, r.per_day, r.health])).toEqual([
    ["smtp://***@relay-a.test:587", 14, null, 50000, "up"],
    ["smtp://relay-b.test:25", null, null, null, "up"],
  ]);
  // Given as listed (masked): the operator need not type the password again.
  expect(await cliOk(dir, ["route", "update", "*", "smtp://***@relay-a.test:587", "--per-second", "none", "--per-minute", "600"])).toContain("per-minute 600");
  expect((await json(["route", "list"]))[0]).toMatchObject({ per_second: null, per_minute: 600, per_day: 50000 });
  const bad = await cli(dir, ["route", "add", "*", "smtp://relay-c.test:25", "--per-second", "0"]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("per-second must be a whole number of at least 1");
  expect((await cli(dir, ["route", "update", "*", "smtp://relay-b.test:25", "--per-day", "lots"])).stderr).toContain("--per-day must be a whole number or none");
  expect((await cli(dir, ["route", "update", "*", "smtp://nowhere.test:25", "--per-day", "5"])).code).toBe(1);
});

test("account update --over-limit hold|refuse and --hold-backlog", async () => {
  await cliOk(dir, ["account", "add", "bulk", "--per-minute", "10"]);
  expect(await cliOk(dir, ["account", "update", "bulk", "--over-limit", "hold", "--hold-backlog", "500"])).toBe("account bulk: per-minute 10, per-day none, recipients-per-day none, over-limit hold (backlog 500)");
  expect((await json(["account", "list"])).find((a) => a.name === "bulk")).toMatchObject({ over_limit: "hold", hold_backlog: 500 });
  expect((await cli(dir, ["account", "update", "bulk", "--over-limit", "queue"])).stderr).toBe("error: over-limit must be refuse or hold\n");
  expect(await cliOk(dir, ["account", "update", "bulk", "--over-limit", "refuse"])).toContain("over-limit refuse");
});

test("shape add/list/remove: operator shapes before the built-in defaults; a default can be replaced and comes back", async () => {
  expect(await cliOk(dir, ["shape", "add", "Example.ORG", "--connections", "2", "--per-minute", "60"])).toBe("shape example.org: connections 2, per-minute 60");
  expect(await cliOk(dir, ["shape", "add", "*.google.com", "--per-minute", "100"])).toBe("shape *.google.com: connections default, per-minute 100");
  expect((await json(["shape", "list"])).map((r) => [r.pattern, r.connections, r.per_minute, r.source])).toEqual([
    ["*.google.com", null, 100, "operator"],
    ["example.org", 2, 60, "operator"],
    ["*.outlook.com", 5, 600, "default"],
    ["*.yahoodns.net", 3, 300, "default"],
  ]);
  expect((await cli(dir, ["shape", "add", "example.org"])).stderr).toBe("error: give --connections and/or --per-minute\n");
  expect((await cli(dir, ["shape", "add", "bad domain", "--per-minute", "5"])).code).toBe(1);
  expect(await cliOk(dir, ["shape", "remove", "*.google.com"])).toBe("shape *.google.com removed");
  expect((await json(["shape", "list"])).find((r) => r.pattern === "*.google.com")).toMatchObject({ per_minute: 600, source: "default" });
  expect((await cli(dir, ["shape", "remove", "nothing.test"])).code).toBe(1);
});
