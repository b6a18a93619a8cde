/**
 * Applies the migrations (embedded from migrations/ at build time) to a libSQL database.
 * Bookkeeping is drizzle's own (`__drizzle_migrations`: hash and journal time per applied
 * migration), so drizzle-kit sees the same state. All pending migrations apply in one
 * atomic batch; every runtime can run this (no files are read).
 */
import type { Client } from "@libsql/client";
import { MIGRATIONS } from "./migrations.gen.ts";
import { installQueueCounts } from "../queue/queue-counts.ts";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Returns the tags applied now (empty when the database was up to date). */
export async function applyMigrations(client: Client, migrations = MIGRATIONS): Promise<string[]> {
  const applied = await applyPending(client, migrations);
  await installQueueCounts(client); // triggers are not drizzle's to manage
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
  await client.batch(statements, "write");
  return pending.map((m) => m.tag);
}
