import { expect, test } from "bun:test";
import { COMMANDS } from "../../../src/cli/commands.ts";
import { arity, distance, findCommand, nearest, nearestOption, usageLine } from "../../../src/cli/table.ts";

test("the longest command name that matches wins", () => {
  expect(findCommand(COMMANDS, ["queue", "show", "X"])).toMatchObject({ command: { name: "queue show" }, rest: ["X"] });
  expect(findCommand(COMMANDS, ["queue", "--state", "held"])).toMatchObject({ command: { name: "queue" }, rest: ["--state", "held"] });
  expect(findCommand(COMMANDS, ["acount", "list"])).toBeNull();
});

test("typos suggest the nearest command or object; nonsense suggests nothing", () => {
  expect(nearest(COMMANDS, ["acount", "list"])).toBe("account list");
  expect(nearest(COMMANDS, ["account", "lsit", "--json"])).toBe("account list");
  expect(nearest(COMMANDS, ["queue", "relase", "ID"])).toBe("queue release");
  expect(nearest(COMMANDS, ["acount"])).toBe("account");
  expect(nearest(COMMANDS, ["frobnicate"])).toBeNull();
});

test("every command has a summary, a usage line and a sound arity", () => {
  const names = new Set<string>();
  for (const c of COMMANDS) {
    expect(names.has(c.name)).toBe(false);
    names.add(c.name);
    expect(c.summary.length).toBeGreaterThan(5);
    expect(usageLine(c)).toStartWith(c.name);
    const { min, max } = arity(c);
    expect(min).toBeLessThanOrEqual(max);
  }
  expect(arity(COMMANDS.find((c) => c.name === "credential list")!)).toEqual({ min: 0, max: 1 });
  expect(arity(COMMANDS.find((c) => c.name === "route add")!)).toEqual({ min: 2, max: 2 });
});

test("a swap of two neighbouring letters is one edit", () => {
  expect(distance("lsit", "list")).toBe(1);
  expect(distance("jsno", "json")).toBe(1);
  expect(distance("relase", "release")).toBe(1);
  expect(distance("", "abc")).toBe(3);
  expect(distance("kitten", "sitting")).toBe(3);
});

test("an unknown option suggests the command's nearest option, or nothing", () => {
  const command = (name: string) => COMMANDS.find((c) => c.name === name)!;
  expect(nearestOption(command("key list"), "--jsno")).toBe("--json");
  expect(nearestOption(command("queue"), "--stat")).toBe("--state");
  expect(nearestOption(command("queue"), "--acount=acme")).toBe("--account");
  expect(nearestOption(command("account update"), "--per-dya")).toBe("--per-day");
  expect(nearestOption(command("account update"), "--overlimit")).toBe("--over-limit");
  expect(nearestOption(command("route add"), "--pasword-stdin")).toBe("--password-stdin");
  expect(nearestOption(command("key list"), "--hlep")).toBe("--help");
  expect(nearestOption(command("key list"), "--frobnicate")).toBeNull();
  expect(nearestOption(command("key revoke"), "--js")).toBeNull();
});
