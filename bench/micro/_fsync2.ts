import Database from "libsql";
import { rmSync } from "node:fs";
for (const [label, pragmas] of [["4k default", []], ["4k no-autockpt", ["PRAGMA wal_autocheckpoint=0"]], ["64k", ["PRAGMA page_size=65536"]], ["64k no-autockpt", ["PRAGMA page_size=65536", "PRAGMA wal_autocheckpoint=0"]], ["16k", ["PRAGMA page_size=16384"]]] as const) {
  for (const f of ["", "-wal", "-shm"]) rmSync("/tmp/fsb/fs.db" + f, { force: true });
  const db = new Database("/tmp/fsb/fs.db");
  for (const p of pragmas) db.exec(p);
  db.exec("PRAGMA journal_mode=WAL"); db.exec(`PRAGMA synchronous=FULL`);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)");
  const ins = db.prepare("INSERT INTO t (b) VALUES (?)");
  const sel = db.prepare("SELECT b FROM t WHERE id = ?");
  for (const size of [2048, 102400]) {
    const buf = Buffer.alloc(size, 120);
    const t0 = performance.now(); const c0 = process.cpuUsage();
    let last = 0;
    for (let i = 0; i < 2000; i++) { db.exec("BEGIN IMMEDIATE"); last = Number(ins.run([buf]).lastInsertRowid); db.exec("COMMIT"); sel.all([last]); }
    const c = process.cpuUsage(c0);
    console.log(label.padEnd(16), size, ((performance.now() - t0) / 2000).toFixed(3), "ms/commit wall", ((c.user + c.system) / 1000 / 2000).toFixed(3), "ms cpu");
  }
  db.close();
}
