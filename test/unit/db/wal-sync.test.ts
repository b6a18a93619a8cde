/**
 * Durable writes on an embedded file COMMIT without waiting for the disk and settle after
 * the WAL sync that followed their COMMIT (src/db/wal-sync.ts): never before it, never
 * on a sync that was already under way, and without holding up the next group.
 */
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { statSync } from "node:fs";
import { EmbeddedDatabase } from "../../../src/runtime/libsql-embedded.ts";
import { walFileSync } from "../../../src/runtime/wal-file.ts";
import { GroupCommit } from "../../../src/db/group-commit.ts";
import { SyncCoalescer } from "../../../src/db/wal-sync.ts";
import type { Sql, SqlDatabase } from "../../../src/db/raw.ts";
import { removeDir, tempDir } from "../../support/relay.ts";
import { withTimeout } from "../../support/wait.ts";

let dir: string | undefined;
let db: EmbeddedDatabase | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
  if (dir) removeDir(dir);
  dir = undefined;
});

/** Counts an event; `reached(n)` resolves once it has happened n times. */
function counter(what: string) {
  let count = 0;
  const waiting: { n: number; resolve: () => void }[] = [];
  return {
    bump() {
      count++;
      for (const w of waiting.filter((w) => w.n <= count)) w.resolve();
    },
    reached(n: number): Promise<void> {
      if (count >= n) return Promise.resolve();
      return withTimeout(new Promise<void>((resolve) => waiting.push({ n, resolve })), 5000, `${what} #${n}`);
    },
  };
}

/** A sync the test finishes by hand; `syncsStarted(n)` waits for the nth to begin. */
function manualSync() {
  const started: { finish: () => void }[] = [];
  const starts = counter("a WAL sync to start");
  const sync = () =>
    new Promise<void>((resolve) => {
      started.push({ finish: resolve });
      starts.bump();
    });
  return { started, sync, syncsStarted: starts.reached };
}

/** The database, with a way to wait for its nth COMMIT to have returned. */
function countingCommits(db: SqlDatabase) {
  const commits = counter("a COMMIT");
  const counted: SqlDatabase = {
    execute: (stmt) => db.execute(stmt),
    async transaction(mode, options) {
      const tx = await db.transaction(mode, options);
      return {
        execute: (stmt) => tx.execute(stmt),
        close: () => tx.close(),
        async commit() {
          await tx.commit();
          commits.bump();
        },
      };
    },
  };
  return { db: counted, commitsDone: commits.reached };
}

test("a caller during a sync waits for the next one; callers meanwhile share it", async () => {
  const m = manualSync();
  const s = new SyncCoalescer(m.sync);
  const order: string[] = [];
  void s.sync().then(() => order.push("first"));
  await m.syncsStarted(1);
  const a = s.sync().then(() => order.push("a"));
  const b = s.sync().then(() => order.push("b"));
  expect(m.started).toHaveLength(1);
  m.started[0]!.finish();
  // The first sync may have missed what a and b wrote: they wait for a second one, shared.
  await m.syncsStarted(2);
  expect(order).toEqual(["first"]);
  expect(m.started).toHaveLength(2);
  m.started[1]!.finish();
  await Promise.all([a, b]);
  expect(order).toEqual(["first", "a", "b"]);
  expect(m.started).toHaveLength(2);
});

test("a durable write settles only after the WAL sync that follows its COMMIT; others at once; the next group does not wait", async () => {
  const path = join((dir = tempDir()), "w.db");
  db = new EmbeddedDatabase(path);
  await db.execute("CREATE TABLE t (v TEXT)");
  const m = manualSync();
  const c = countingCommits(db);
  const g = new GroupCommit(c.db, { syncWal: m.sync });
  const insert = (v: string) => (sql: Sql) => sql.execute({ sql: "INSERT INTO t (v) VALUES (?)", args: [v] }).then(() => v);
  const settled: string[] = [];

  const durable = g.write(insert("accepted")).then((v) => settled.push(v));
  const relaxed = g.write(insert("lease"), { durable: false }).then((v) => settled.push(v));
  await m.syncsStarted(1);
  // Both committed in one group (visible), one sync started, nothing answered yet.
  expect((await db.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(2);
  expect(settled).toEqual([]);

  // The next group commits while that sync is still under way.
  const later = g.write(insert("later")).then((v) => settled.push(v));
  await c.commitsDone(2);
  expect((await db.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(3);
  expect(settled).toEqual([]);
  expect(m.started).toHaveLength(1);

  m.started[0]!.finish();
  await Promise.all([durable, relaxed]);
  expect(settled.sort()).toEqual(["accepted", "lease"]);
  // "later" committed after the first sync began: it needs the second.
  await m.syncsStarted(2);
  expect(settled).not.toContain("later");
  m.started[1]!.finish();
  await later;
  expect(settled).toContain("later");
});

test("the real sync: the WAL file of an embedded database, opened and synced per call", async () => {
  const path = join((dir = tempDir()), "w.db");
  db = new EmbeddedDatabase(path);
  await db.execute("CREATE TABLE t (v TEXT)");
  const sync = walFileSync(path);
  const g = new GroupCommit(db, { syncWal: sync });
  await Promise.all(Array.from({ length: 20 }, (_, i) => g.write((sql) => sql.execute({ sql: "INSERT INTO t (v) VALUES (?)", args: [`m${i}`] }))));
  // Its one descriptor is closed with the database, never left to the garbage collector.
  await sync.close();
  expect((await db.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(20);
  expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
  // A database without its WAL file cannot be made durable: the writer hears it.
  const broken = new GroupCommit(db, { syncWal: walFileSync(join(dir!, "missing.db")) });
  await expect(broken.write((sql) => sql.execute({ sql: "INSERT INTO t (v) VALUES ('x')", args: [] }))).rejects.toThrow(/ENOENT|no such file/i);
});
