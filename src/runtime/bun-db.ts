/**
 * Opens the configured libSQL database with the native client (Bun and Node) and brings
 * it up to date (migrations, then the data fix-ups that need the secret key): every
 * command and every node mode starts from here.
 */
import { createClient } from "@libsql/client";
import { chmod, mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { EmbeddedDatabase } from "./libsql-embedded.ts";
import { startCheckpointer, WRITER_AUTOCHECKPOINT } from "./checkpointer.ts";
import { walFileSync } from "./wal-file.ts";
import { databaseFrom, libsqlConfig, prepareEmbedded, type Database } from "../db/client.ts";
import { prepareDatabase } from "./prepare-database.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import type { Logger } from "../core/log.ts";

// The files hold message bodies, credentials and hashes: owner only.
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * Makes the database file, before SQLite does, readable by its owner only. SQLite gives
 * the -wal and -shm files it creates the mode of the database file; files left by an
 * older version (0644) are narrowed here at every open.
 */
async function ownerOnly(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: DIR_MODE });
  await (await open(path, "a", FILE_MODE)).close();
  await chmod(path, FILE_MODE);
}

async function narrowSideFiles(path: string): Promise<void> {
  for (const side of [`${path}-wal`, `${path}-shm`]) {
    await chmod(side, FILE_MODE).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
}

export interface OpenOptions {
  /**
   * WAL checkpoints on a thread of their own (src/runtime/checkpointer.ts), for `serve`:
   * the thread's entry, resolved by the caller (see serve.ts for why).
   */
  checkpointThread?: URL;
}

export async function openDatabase(url: string, authToken?: string, secrets?: SecretBox, log?: Logger, opts: OpenOptions = {}): Promise<Database> {
  const path = url.startsWith("file:") ? url.slice("file:".length).split("?")[0]! : null;
  const onDisk = path !== null && path !== "" && path !== ":memory:";
  if (onDisk) await ownerOnly(path);
  const client = createClient(libsqlConfig(url, authToken));
  if (path !== null) await prepareEmbedded(client);
  const threaded = onDisk && opts.checkpointThread !== undefined;
  const opened = databaseFrom(client, onDisk ? new EmbeddedDatabase(path, threaded ? { autoCheckpoint: WRITER_AUTOCHECKPOINT } : {}) : undefined);
  const wal = onDisk ? walFileSync(path) : null;
  const database: Database = wal
    ? {
        ...opened,
        syncWal: wal,
        close: () => {
          void wal.close();
          opened.close();
        },
      }
    : opened;
  if (onDisk) await narrowSideFiles(path);
  try {
    await prepareDatabase(client, database.db, secrets, log);
  } catch (err) {
    database.close();
    throw err;
  }
  if (!threaded) return database;
  const checkpoints = startCheckpointer(opts.checkpointThread!, path, log);
  return {
    ...database,
    close: () => {
      void checkpoints.stop();
      database.close();
    },
  };
}
