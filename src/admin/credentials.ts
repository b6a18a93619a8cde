/** `credential list|rotate|remove`: SMTP credentials. The password is never shown again after it is set. */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { accounts, smtpCredentials } from "../db/schema.ts";
import { generatePassword, hashPassword } from "../policy/passwords.ts";
import { accountIdByName } from "./accounts.ts";
import { Failure } from "../core/failure.ts";

export interface CredentialRow {
  username: string;
  account: string;
  created_at: string;
}

export async function listCredentials(db: Db, account?: string): Promise<CredentialRow[]> {
  const accountId = account === undefined ? null : await accountIdByName(db, account);
  const rows = await db
    .select({ username: smtpCredentials.username, account: accounts.name, createdAt: smtpCredentials.createdAt })
    .from(smtpCredentials)
    .innerJoin(accounts, eq(accounts.id, smtpCredentials.accountId))
    .where(accountId === null ? undefined : eq(smtpCredentials.accountId, accountId))
    .orderBy(accounts.name, smtpCredentials.username);
  return rows.map((r) => ({ username: r.username, account: r.account, created_at: new Date(r.createdAt).toISOString() }));
}

async function credentialId(db: Db, username: string): Promise<string> {
  const [row] = await db.select({ id: smtpCredentials.id }).from(smtpCredentials).where(eq(smtpCredentials.username, username));
  if (!row) throw new Failure("not-found", `no credential named "${username}"`);
  return row.id;
}

/**
 * A new password for the username; the old one stops working with this commit (AUTH reads
 * the hash on every attempt). Returns the password when it was generated, else null.
 */
export async function rotateCredential(db: Db, username: string, password?: string): Promise<string | null> {
  const id = await credentialId(db, username);
  if (password !== undefined && password.length < 8) throw new Failure("invalid", "the password must be at least 8 characters");
  const secret = password ?? generatePassword();
  await db.update(smtpCredentials).set({ passwordHash: await hashPassword(secret) }).where(eq(smtpCredentials.id, id));
  return password === undefined ? secret : null;
}

export async function removeCredential(db: Db, username: string): Promise<void> {
  const id = await credentialId(db, username);
  await db.delete(smtpCredentials).where(eq(smtpCredentials.id, id));
}
