/**
 * Applies the migrations (embedded from migrations/ at build time) to a libSQL database.
 * Bookkeeping is drizzle's own (`__drizzle_migrations`: hash and journal time per applied
 * migration), so drizzle-kit sees the same state. All pending migrations apply in one
 * atomic batch; every runtime can run this (no files are read).
 */
import type { Client } from "@libsql/client";
import { sha256Hex } from "../util/hash.ts";
import { MIGRATIONS } from "./migrations.gen.ts";

/**
 * Removing an account relies on ON DELETE CASCADE (src/db/schema.ts): refuse to run on a
 * connection that does not enforce foreign keys. libSQL (embedded and sqld) turns them on
 * by default; a connection that has them off was set up wrong.
 */
export async function requireForeignKeys(client: Client): Promise<void> {
  const rs = await client.execute("PRAGMA foreign_keys");
  if (Number(rs.rows[0]?.[0] ?? 0) !== 1) throw new Error("the database does not enforce foreign keys (PRAGMA foreign_keys is off): removing an account would leave its data behind");
}

/** Returns the tags applied now (empty when the database was up to date). */
export async function applyMigrations(client: Client, migrations = MIGRATIONS): Promise<string[]> {
  await requireForeignKeys(client);
  const applied = await applyPending(client, migrations);
  return applied;
}

async function applyPending(client: Client, migrations: typeof MIGRATIONS): Promise<string[]> {
  await client.execute(`CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`);
  const last = await client.execute(`SELECT created_at FROM "__drizzle_migrations" ORDER BY created_at DESC LIMIT 1`);
  const lastApplied = last.rows[0] ? Number(last.rows[0].created_at) : -1;
  const pending = migrations.filter((m) => m.when > lastApplied);
  if (pending.length === 0) return [];
  const statements = [];
  for (const m of pending) {
    for (const stmt of m.sql.split("--> statement-breakpoint")) if (stmt.trim()) statements.push(stmt);
    statements.push({ sql: `INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES (?, ?)`, args: [await sha256Hex(m.sql), m.when] });
  }
  // With foreign keys off for the batch (the client's `migrate`): a migration rebuilds a
  // table to change its constraints, and dropping a parent table with them on would
  // cascade into its children. Each migration leaves no orphan rows behind itself.
  await client.migrate(statements);
  await requireForeignKeys(client);
  return pending.map((m) => m.tag);
}
