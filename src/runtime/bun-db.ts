/**
 * Opens the configured libSQL database with the native client (Bun and Node) and brings
 * it up to date (migrations, then the data fix-ups that need the secret key): every
 * command and every node mode starts from here.
 */
import { createClient } from "@libsql/client";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { EmbeddedDatabase } from "./libsql-embedded.ts";
import { databaseFrom, libsqlConfig, prepareEmbedded, type Database } from "../db/client.ts";
import { applyDataFixups, applyMigrations } from "../db/migrate.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import type { Logger } from "../smtp/session-types.ts";

export async function openDatabase(url: string, authToken?: string, secrets?: SecretBox, log?: Logger): Promise<Database> {
  const path = url.startsWith("file:") ? url.slice("file:".length).split("?")[0]! : null;
  const onDisk = path !== null && path !== "" && path !== ":memory:";
  if (onDisk) await mkdir(dirname(path), { recursive: true });
  const client = createClient(libsqlConfig(url, authToken));
  if (path !== null) await prepareEmbedded(client);
  const database = databaseFrom(client, onDisk ? new EmbeddedDatabase(path) : undefined);
  try {
    await applyMigrations(client);
    if (secrets) {
      const fixed = await applyDataFixups(client, database.db, secrets);
      if (fixed.routePasswordsSealed > 0) log?.("route_passwords_sealed", { count: fixed.routePasswordsSealed });
    }
  } catch (err) {
    database.close();
    throw err;
  }
  return database;
}
