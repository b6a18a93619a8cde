/** An SMTP credential's stored row, looked up for AUTH. */
import type { Sql } from "../db/raw.ts";
import { normalizeUser } from "./auth-throttle.ts";

export interface CredentialRow {
  username: string;
  hash: string;
  accountId: string;
}

/**
 * Matched as the throttle counts it: without regard to case; an exact match wins. Read on
 * the hot-path connection (a prepared statement kept) at every AUTH, so a removed
 * credential stops working at once.
 */
export async function credentialRow(sql: Sql, username: string): Promise<CredentialRow | undefined> {
  const { rows } = await sql.execute({
    sql: "SELECT username, password_hash, account_id FROM smtp_credentials WHERE lower(username) = ?",
    args: [normalizeUser(username)],
  });
  const found = rows.map((r) => ({ username: String(r.username), hash: String(r.password_hash), accountId: String(r.account_id) }));
  return found.find((r) => r.username === username) ?? found[0];
}
