/**
 * Opens the configured libSQL database with the native client (Bun and Node) and brings
 * it up to date: every command and every node mode starts from here.
 */
import { createClient } from "@libsql/client";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { EmbeddedDatabase } from "./libsql-embedded.ts";
import { databaseFrom, libsqlConfig, prepareEmbedded, type Database } from "../db/client.ts";
import { applyMigrations } from "../db/migrate.ts";

export async function openDatabase(url: string, authToken?: string): Promise<Database> {
  const path = url.startsWith("file:") ? url.slice("file:".length).split("?")[0]! : null;
  const onDisk = path !== null && path !== "" && path !== ":memory:";
  if (onDisk) await mkdir(dirname(path), { recursive: true });
  const client = createClient(libsqlConfig(url, authToken));
  if (path !== null) await prepareEmbedded(client);
  const database = databaseFrom(client, onDisk ? new EmbeddedDatabase(path) : undefined);
  try {
    await applyMigrations(client);
  } catch (err) {
    database.close();
    throw err;
  }
  return database;
}
