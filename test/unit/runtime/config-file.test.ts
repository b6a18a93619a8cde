/** The configuration file (SMARTHOST_CONFIG): what it reads, what it refuses, what wins. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configEnvironment, configFilePath, parseConfigFile, requireDatabase } from "../../../src/runtime/config-file.ts";

const dir = mkdtempSync(join(tmpdir(), "smarthost-config-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("parseConfigFile: the subset systemd's EnvironmentFile= reads alike", () => {
  test.each([
    ["KEY=VALUE", "A=1", { A: "1" }],
    ["comment and blank lines", "# a comment\n\n; another\nA=1\n", { A: "1" }],
    ["double quotes", 'A="two words"', { A: "two words" }],
    ["single quotes", "A='x=y # not a comment'", { A: "x=y # not a comment" }],
    ["spaces around = and the line", "  A = 1  ", { A: "1" }],
    ["an empty value", "A=", { A: "" }],
    ["CRLF line ends", "A=1\r\nB=2\r\n", { A: "1", B: "2" }],
    ["a value holding =", "SMARTHOST_DB_URL=file:/var/lib/smarthost/smarthost.db?mode=rwc", { SMARTHOST_DB_URL: "file:/var/lib/smarthost/smarthost.db?mode=rwc" }],
    ["one quote alone is part of the value", 'A="open', { A: '"open' }],
  ])("%s", (_, text, expected) => {
    expect(parseConfigFile(text, "f.env")).toEqual(expected);
  });

  test("a line that is not KEY=VALUE is refused by its number, its text never echoed", () => {
    expect(() => parseConfigFile("A=1\nSMARTHOST_ADMIN_TOKEN secret-value\n", "/etc/x.env")).toThrow("/etc/x.env, line 2: expected KEY=VALUE");
    try {
      parseConfigFile("A=1\nsecret-value\n", "f");
    } catch (err) {
      expect((err as Error).message).not.toContain("secret-value");
    }
    expect(() => parseConfigFile("export A=1", "f")).toThrow("line 1");
  });
});

describe("configEnvironment", () => {
  const file = join(dir, "smarthost.env");
  writeFileSync(file, "SMARTHOST_DB_URL=file:/from/file.db\nSMARTHOST_HOSTNAME=file.example\n");

  test("the file's values, the process environment's over them", () => {
    const { env, file: read } = configEnvironment({ SMARTHOST_CONFIG: file, SMARTHOST_HOSTNAME: "env.example" });
    expect(read).toBe(file);
    expect(env.SMARTHOST_DB_URL).toBe("file:/from/file.db");
    expect(env.SMARTHOST_HOSTNAME).toBe("env.example");
  });

  test("SMARTHOST_CONFIG empty reads no file; a named file that is missing stops", () => {
    expect(configEnvironment({ SMARTHOST_CONFIG: "", A: "1" })).toEqual({ env: { SMARTHOST_CONFIG: "", A: "1" }, file: null });
    expect(configFilePath({ SMARTHOST_CONFIG: "" })).toBeNull();
    expect(() => configEnvironment({ SMARTHOST_CONFIG: join(dir, "nope.env") })).toThrow(`SMARTHOST_CONFIG: cannot read ${join(dir, "nope.env")} (no such file)`);
    expect(() => configEnvironment({ SMARTHOST_CONFIG: dir })).toThrow("is not a file");
  });
});

describe("requireDatabase", () => {
  test("a missing file: database names its path and how to make or find it; nothing is created", () => {
    const missing = join(dir, "none", "smarthost.db");
    expect(() => requireDatabase(`file:${missing}`, null)).toThrow(`no database at ${missing}`);
    expect(() => requireDatabase(`file:${missing}`, "/etc/smarthost/smarthost.env")).toThrow("configuration from /etc/smarthost/smarthost.env");
    expect(() => requireDatabase(`file:${missing}`, null)).toThrow("smarthost migrate");
  });

  test("an existing file, memory and remote databases pass", () => {
    const there = join(dir, "there.db");
    writeFileSync(there, "");
    expect(() => requireDatabase(`file:${there}`, null)).not.toThrow();
    expect(() => requireDatabase("file::memory:", null)).not.toThrow();
    expect(() => requireDatabase("libsql://db.example.turso.io", null)).not.toThrow();
    expect(() => requireDatabase("http://127.0.0.1:8080", null)).not.toThrow();
  });
});
