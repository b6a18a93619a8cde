import Database from "libsql";
import { rmSync } from "node:fs";
for (const mode of ["FULL", "NORMAL"]) {
  rmSync("/tmp/fsb/fs.db", { force: true }); rmSync("/tmp/fsb/fs.db-wal", { force: true }); rmSync("/tmp/fsb/fs.db-shm", { force: true });
  const db = new Database("/tmp/fsb/fs.db");
  db.exec("PRAGMA journal_mode=WAL"); db.exec(`PRAGMA synchronous=${mode}`);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)");
  const ins = db.prepare("INSERT INTO t (b) VALUES (?)");
  for (const size of [2048, 102400]) {
    const buf = Buffer.alloc(size, 120);
    const t0 = performance.now(); const c0 = process.cpuUsage();
    for (let i = 0; i < 1000; i++) { db.exec("BEGIN IMMEDIATE"); ins.run([buf]); db.exec("COMMIT"); }
    const c = process.cpuUsage(c0);
    console.log(mode, size, ((performance.now() - t0) / 1000).toFixed(3), "ms/commit wall", ((c.user + c.system) / 1000 / 1000).toFixed(3), "ms cpu");
  }
  db.close();
}
