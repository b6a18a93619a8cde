/**
 * The hot path on an embedded libSQL file: one connection of the `libsql` driver (the one
 * @libsql/client itself uses for files) with its prepared statements kept, since the same
 * few statements run for every message. Statements run synchronously, as the driver does.
 */
import Database from "libsql";
import type { InStatement } from "@libsql/client";
import type { SqlDatabase, SqlResult, SqlTransaction, TransactionOptions } from "../db/raw.ts";

interface Statement {
  readonly reader: boolean;
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

/** A prepared statement and whether it returns rows, asked once (each ask is a native call). */
type Prepared = { isReader: boolean; run(...params: unknown[]): unknown; all(...params: unknown[]): unknown[] };
const MAX_CACHED = 200;

function bind(args: unknown): unknown[] {
  const list = Array.isArray(args) ? args : args === undefined ? [] : [args];
  return list.map((a) => (a instanceof Uint8Array && !Buffer.isBuffer(a) ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : typeof a === "boolean" ? (a ? 1 : 0) : a));
}

export class EmbeddedDatabase implements SqlDatabase {
  private readonly db: InstanceType<typeof Database>;
  private readonly statements = new Map<string, Prepared>();
  /** synchronous=FULL (the default) or NORMAL, set between transactions as each asks. */
  private fullSync = true;

  /** `autoCheckpoint`: WAL pages before a commit checkpoints (SQLite's default 1000 when absent). */
  constructor(path: string, opts: { autoCheckpoint?: number } = {}) {
    // Busy timeout: other processes (and this one's admin connection) share the file.
    this.db = new Database(path, { timeout: 15_000 });
    this.db.exec("PRAGMA journal_mode=WAL");
    this.db.exec("PRAGMA synchronous=FULL");
    this.db.exec("PRAGMA foreign_keys=ON"); // account removal cascades (src/db/schema.ts)
    if (opts.autoCheckpoint !== undefined) this.db.exec(`PRAGMA wal_autocheckpoint=${Math.trunc(opts.autoCheckpoint)}`);
  }

  async execute(stmt: InStatement): Promise<SqlResult> {
    const { sql, args } = typeof stmt === "string" ? { sql: stmt, args: [] } : stmt;
    const s = this.prepare(sql);
    if (s.isReader) return { rows: s.all(...bind(args)) as Record<string, unknown>[] };
    s.run(...bind(args));
    return { rows: [] };
  }

  async transaction(_mode: "write" = "write", options: TransactionOptions = {}): Promise<SqlTransaction> {
    // In WAL mode NORMAL still commits atomically and survives a crash of the process; only
    // the fsync of the WAL at COMMIT is left out. A later FULL commit syncs it all.
    const full = options.durable !== false;
    if (full !== this.fullSync) {
      this.db.exec(`PRAGMA synchronous=${full ? "FULL" : "NORMAL"}`);
      this.fullSync = full;
    }
    this.db.exec("BEGIN IMMEDIATE");
    let open = true;
    return {
      execute: (s) => this.execute(s),
      commit: async () => {
        this.db.exec("COMMIT");
        open = false;
      },
      close: () => {
        if (open && this.db.inTransaction) this.db.exec("ROLLBACK");
        open = false;
      },
    };
  }

  close(): void {
    this.db.close();
  }

  private prepare(sql: string): Prepared {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= MAX_CACHED) this.statements.clear();
      const st = this.db.prepare(sql) as unknown as Statement;
      s = { isReader: st.reader, run: (...p) => st.run(...p), all: (...p) => st.all(...p) };
      this.statements.set(sql, s);
    }
    return s;
  }
}
