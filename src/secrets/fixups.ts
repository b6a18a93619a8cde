/**
 * Fix-ups of stored data that SQL alone cannot make, run after the migrations at every open
 * (runtime/prepare-database.ts): they need SMARTHOST_SECRET_KEY, which the schema floor
 * below never sees. Idempotent.
 */
import type { Client } from "@libsql/client";
import type { Db } from "../db/client.ts";
import type { SecretBox } from "./cipher.ts";
import { sealClearRoutePasswords } from "./route-passwords.ts";

export interface FixupReport {
  routePasswordsSealed: number;
  /** Why the write-ahead log could not be emptied after sealing (the clear text may linger there). */
  walNotTruncated?: unknown;
}

/** Returns what each fix-up changed, and what could not be made sure of. */
export async function applyDataFixups(client: Client, db: Db, secrets: SecretBox): Promise<FixupReport> {
  const pending = await client.execute(`SELECT 1 FROM routes WHERE secret IS NULL AND url LIKE '%@%' LIMIT 1`);
  if (pending.rows.length === 0) return { routePasswordsSealed: 0 };
  // The clear text must not linger in freed page space or in the write-ahead log: zero
  // what the rewrite frees, then fold the log into the file and empty it. Embedded files
  // only; a remote server answers these as it sees fit.
  await client.execute("PRAGMA secure_delete = ON").catch(() => {});
  try {
    const routePasswordsSealed = await sealClearRoutePasswords(db, secrets);
    const walNotTruncated = await client.execute("PRAGMA wal_checkpoint(TRUNCATE)").then(() => undefined, (err: unknown) => err ?? "failed");
    return walNotTruncated === undefined ? { routePasswordsSealed } : { routePasswordsSealed, walNotTruncated };
  } finally {
    await client.execute("PRAGMA secure_delete = OFF").catch(() => {});
  }
}
