/** Accounts, SMTP credentials, API keys and sender rules: what `smarthost account|credential|key|sender` do. */
import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { accounts, apiKeys, senderRules, smtpCredentials, trustedNetworks } from "../db/schema.ts";
import { normalizeCidr } from "../policy/networks.ts";
import { generateApiKey } from "../policy/api-keys.ts";
import { generatePassword, hashPassword } from "../policy/passwords.ts";
import { normalizePattern } from "../policy/sender-rules.ts";
import { newId } from "../smtp/ids.ts";
import { Failure, isUniqueViolation } from "../core/failure.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export async function accountIdByName(db: Db, name: string): Promise<string> {
  const rows = await db.select({ id: accounts.id }).from(accounts).where(eq(accounts.name, name));
  if (!rows[0]) throw new Failure("not-found", `no account named "${name}"`);
  return rows[0].id;
}

const LIMIT_FLAGS = { perMinute: "--per-minute", perDay: "--per-day", recipientsPerDay: "--recipients-per-day" } as const;

export async function addAccount(db: Db, name: string, limits: { perMinute: number | null; perDay: number | null; recipientsPerDay?: number | null }): Promise<string> {
  if (!NAME.test(name)) throw new Failure("invalid", "account name: letters, digits, '.', '_' or '-', at most 64");
  for (const [k, n] of Object.entries(limits)) {
    if (n !== null && (!Number.isInteger(n) || n < 1)) throw new Failure("invalid", `${LIMIT_FLAGS[k as keyof typeof LIMIT_FLAGS]} must be a whole number of at least 1`);
  }
  const id = newId();
  try {
    await db.insert(accounts).values({ id, name, perMinute: limits.perMinute, perDay: limits.perDay, recipientsPerDay: limits.recipientsPerDay ?? null, createdAt: Date.now() });
  } catch (err) {
    if (isUniqueViolation(err)) throw new Failure("conflict", `account "${name}" already exists`);
    throw err;
  }
  return id;
}

/** Returns the password when it was generated (to be shown once), else null. */
export async function addCredential(db: Db, account: string, username: string, password?: string): Promise<string | null> {
  const accountId = await accountIdByName(db, account);
  if (!/^[\x21-\x7e]{1,255}$/.test(username)) throw new Failure("invalid", "username: 1-255 printable ASCII characters, no spaces");
  if (password !== undefined && password.length < 8) throw new Failure("invalid", "--password must be at least 8 characters");
  // AUTH matches usernames without regard to case (policy/auth-throttle.ts): one per spelling.
  const taken = await db.select({ u: smtpCredentials.username }).from(smtpCredentials).where(sql`lower(${smtpCredentials.username}) = ${username.toLowerCase()}`);
  if (taken[0]) throw new Failure("invalid", `username "${taken[0].u}" already exists`);
  const secret = password ?? generatePassword();
  try {
    await db.insert(smtpCredentials).values({ id: newId(), accountId, username, passwordHash: await hashPassword(secret), createdAt: Date.now() });
  } catch (err) {
    if (isUniqueViolation(err)) throw new Failure("conflict", `username "${username}" already exists`);
    throw err;
  }
  return password === undefined ? secret : null;
}

export async function addApiKey(db: Db, account: string): Promise<string> {
  const accountId = await accountIdByName(db, account);
  const k = await generateApiKey();
  await db.insert(apiKeys).values({ id: k.id, accountId, keyHash: k.hash, createdAt: Date.now() });
  return k.key;
}

export async function allowNetwork(db: Db, account: string, cidr: string): Promise<string> {
  const accountId = await accountIdByName(db, account);
  const normalized = normalizeCidr(cidr);
  if (!normalized) throw new Failure("invalid", `"${cidr}" is not an address or network (CIDR)`);
  try {
    await db.insert(trustedNetworks).values({ accountId, cidr: normalized });
  } catch (err) {
    if (isUniqueViolation(err)) throw new Failure("conflict", `${normalized} is already trusted`);
    throw err;
  }
  return normalized;
}

export async function allowSender(db: Db, account: string, pattern: string): Promise<string> {
  const accountId = await accountIdByName(db, account);
  const p = normalizePattern(pattern);
  if (!p) throw new Failure("invalid", `"${pattern}" is not a sender pattern: use user@example.com, *@example.com or example.com`);
  try {
    await db.insert(senderRules).values({ accountId, pattern: p });
  } catch (err) {
    if (isUniqueViolation(err)) throw new Failure("conflict", `account "${account}" already allows ${p}`);
    throw err;
  }
  return p;
}
