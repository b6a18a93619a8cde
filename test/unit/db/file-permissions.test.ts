/** The database files hold message bodies and credentials: owner only, on a real libSQL file. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../../../src/runtime/bun-db.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

const mode = (p: string) => statSync(p).mode & 0o777;
let dir: string;
let umask: number;
beforeAll(() => {
  dir = tempDir();
  // The usual umask, which alone would leave new files readable by everyone (0644).
  umask = process.umask(0o022);
});
afterAll(() => {
  process.umask(umask);
  removeDir(dir);
});

test("a fresh data folder is 0700 and the database, -wal and -shm files 0600 after a write", async () => {
  const folder = join(dir, "fresh", "data");
  const file = join(folder, "smarthost.db");
  const database = await openDatabase(`file:${file}`);
  try {
    await database.sql.execute("CREATE TABLE probe (x TEXT)");
    await database.sql.execute({ sql: "INSERT INTO probe VALUES (?)", args: ["secret"] });
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect(existsSync(`${file}-shm`)).toBe(true);
    expect(mode(folder)).toBe(0o700);
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}-wal`)).toBe(0o600);
    expect(mode(`${file}-shm`)).toBe(0o600);
  } finally {
    database.close();
  }
});

test("a database file left readable by an older version is narrowed at open", async () => {
  const folder = join(dir, "old");
  mkdirSync(folder, { mode: 0o755 });
  const file = join(folder, "smarthost.db");
  writeFileSync(file, "", { mode: 0o644 });
  expect(mode(file)).toBe(0o644);
  const database = await openDatabase(`file:${file}`);
  try {
    await database.sql.execute("CREATE TABLE probe (x TEXT)");
    expect(mode(file)).toBe(0o600);
    expect(mode(`${file}-wal`)).toBe(0o600);
  } finally {
    database.close();
  }
});
