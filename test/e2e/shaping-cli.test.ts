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
