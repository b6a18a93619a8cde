/**
 * The one start-up path of a database, for every runtime that opens one (the Bun relay, the
 * Deno gateway, `smarthost migrate`): foreign keys enforced, migrations applied (triggers
 * included), then the data fix-ups that need the secret key, each outcome logged once.
 */
import type { Client } from "@libsql/client";
import { errorFields, type Logger } from "../core/log.ts";
import type { Db } from "../db/client.ts";
import { applyMigrations } from "../db/migrate.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import { applyDataFixups } from "../secrets/fixups.ts";

export async function prepareDatabase(client: Client, db: Db, secrets: SecretBox | undefined, log?: Logger): Promise<void> {
  await applyMigrations(client);
  if (!secrets) return;
  const fixed = await applyDataFixups(client, db, secrets);
  if (fixed.routePasswordsSealed > 0) log?.("route_passwords_sealed", { count: fixed.routePasswordsSealed });
  if (fixed.walNotTruncated !== undefined) log?.("wal_truncate_failed", { reason: "sealed route passwords may linger in the write-ahead log until the next checkpoint", error: errorFields(fixed.walNotTruncated) });
}
