/**
 * The database handle: a libSQL client (embedded file or remote) and drizzle over it.
 * Made by a factory, never at import time (on Workers the secrets arrive per request).
 */
import type { Client, Config as LibsqlConfig } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import * as core from "./schema.ts";
import * as deliverability from "./schema-deliverability.ts";
import * as feedback from "./schema-feedback.ts";
import * as shaping from "./schema-shaping.ts";

const schema = { ...core, ...deliverability, ...feedback, ...shaping };
import type { SqlDatabase } from "./raw.ts";

// With its client: admin commands run hand-written statements in one write transaction.
export type Db = LibSQLDatabase<typeof schema> & { $client: Client };

export interface Database {
  client: Client;
  db: Db;
  /** The connection for hand-written hot-path statements (the client itself, or a faster one). */
  sql: SqlDatabase;
  /**
   * An embedded file: syncs its WAL, so `sql` may COMMIT without waiting for the disk and
   * the group commit syncs after (src/db/wal-sync.ts).
   */
  syncWal?: () => Promise<void>;
  /** A libSQL server over the network: every read is a round trip (see REMOTE_READ_CACHE_MS). */
  remote: boolean;
  close(): void;
}

/** Wraps a client made by the runtime (node/bun native, or the web entry on Workers). */
export function databaseFrom(client: Client, fast?: SqlDatabase & { close(): void }): Database {
  return {
    client,
    db: drizzle(client, { schema }),
    sql: fast ?? client,
    remote: client.protocol !== "file",
    close: () => {
      fast?.close();
      client.close();
    },
  };
}

/**
 * A request to a remote libSQL server that has not answered in this time fails: a client
 * is then refused (451 4.3.0 / 503) instead of waiting on a database that is gone or
 * frozen. Every write is one request (db/group-commit.ts), so nothing half-done is left.
 */
export const REMOTE_REQUEST_TIMEOUT_MS = 10_000;

/**
 * On a remote database the rows read for every session or request (API keys, SMTP
 * credentials, whether an account has suppressions) are kept this long: a revoked key or
 * removed credential is refused on every node within it (the README's bound: 5 s). On an
 * embedded file they are read every time (microseconds), so a change counts at once.
 */
export const REMOTE_READ_CACHE_MS = 3_000;

const timedFetch = (input: Request | string | URL, init?: RequestInit) => fetch(input, { ...init, signal: AbortSignal.timeout(REMOTE_REQUEST_TIMEOUT_MS) });

export function libsqlConfig(url: string, authToken?: string): LibsqlConfig {
  return {
    url,
    authToken,
    // Busy timeout for embedded files: several processes may share one file.
    timeout: 15_000,
    fetch: timedFetch,
  };
}

/**
 * Per-file settings. WAL lets readers and one writer work together; synchronous=FULL makes
 * every commit durable on power loss, not only on a crash (a 250 depends on it).
 */
export async function prepareEmbedded(client: Client): Promise<void> {
  await client.execute("PRAGMA journal_mode=WAL");
  await client.execute("PRAGMA synchronous=FULL");
  // libSQL's default, said out loud: account removal cascades through foreign keys.
  await client.execute("PRAGMA foreign_keys=ON");
}
