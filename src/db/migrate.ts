/** Applies migrations/ (drizzle-kit SQL with its journal) to a database. */
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";
import type { Database } from "./client.ts";

export const migrationsFolder = fileURLToPath(new URL("../../migrations", import.meta.url));

export async function applyMigrations(database: Database, folder = migrationsFolder): Promise<void> {
  await migrate(database.db, { migrationsFolder: folder });
}
