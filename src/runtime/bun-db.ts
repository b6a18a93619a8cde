/** Opens the configured libSQL database with the native client (Bun and Node). */
import { createClient } from "@libsql/client";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { EmbeddedDatabase } from "./libsql-embedded.ts";
import { databaseFrom, libsqlConfig, prepareEmbedded, type Database } from "../db/client.ts";

export async function openDatabase(url: string, authToken?: string): Promise<Database> {
  if (url.startsWith("file:")) {
    const path = url.slice("file:".length).split("?")[0]!;
    if (path && path !== ":memory:") await mkdir(dirname(path), { recursive: true });
  }
  const client = createClient(libsqlConfig(url, authToken));
  if (!url.startsWith("file:")) return databaseFrom(client);
  await prepareEmbedded(client);
  const path = url.slice("file:".length).split("?")[0]!;
  return databaseFrom(client, path && path !== ":memory:" ? new EmbeddedDatabase(path) : undefined);
}
