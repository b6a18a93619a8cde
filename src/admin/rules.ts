/** `sender list|remove` and `network list|remove`: who may send as whom. */
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { accounts, senderRules, trustedNetworks } from "../db/schema.ts";
import { normalizeCidr } from "../policy/networks.ts";
import { normalizePattern } from "../policy/sender-rules.ts";
import { accountIdByName } from "./accounts.ts";
import { Failure } from "../core/failure.ts";

export interface SenderRow {
  account: string;
  pattern: string;
}

export interface NetworkRow {
  account: string;
  cidr: string;
}

export async function listSenders(db: Db, account?: string): Promise<SenderRow[]> {
  const accountId = account === undefined ? null : await accountIdByName(db, account);
  return db
    .select({ account: accounts.name, pattern: senderRules.pattern })
    .from(senderRules)
    .innerJoin(accounts, eq(accounts.id, senderRules.accountId))
    .where(accountId === null ? undefined : eq(senderRules.accountId, accountId))
    .orderBy(accounts.name, senderRules.pattern);
}

/** The pattern is normalized as `sender allow` did, so `*@Example.COM` finds `*@example.com`. */
export async function removeSender(db: Db, account: string, pattern: string): Promise<string> {
  const accountId = await accountIdByName(db, account);
  const p = normalizePattern(pattern) ?? pattern;
  const gone = await db.delete(senderRules).where(and(eq(senderRules.accountId, accountId), eq(senderRules.pattern, p))).returning({ id: senderRules.id });
  if (gone.length === 0) throw new Failure("not-found", `account "${account}" has no sender rule ${p}`);
  return p;
}

export async function listNetworks(db: Db, account?: string): Promise<NetworkRow[]> {
  const accountId = account === undefined ? null : await accountIdByName(db, account);
  return db
    .select({ account: accounts.name, cidr: trustedNetworks.cidr })
    .from(trustedNetworks)
    .innerJoin(accounts, eq(accounts.id, trustedNetworks.accountId))
    .where(accountId === null ? undefined : eq(trustedNetworks.accountId, accountId))
    .orderBy(accounts.name, trustedNetworks.cidr);
}

export async function removeNetwork(db: Db, account: string, cidr: string): Promise<string> {
  const accountId = await accountIdByName(db, account);
  const n = normalizeCidr(cidr);
  if (!n) throw new Failure("invalid", `"${cidr}" is not an address or network (CIDR)`);
  const gone = await db.delete(trustedNetworks).where(and(eq(trustedNetworks.accountId, accountId), eq(trustedNetworks.cidr, n))).returning({ id: trustedNetworks.id });
  if (gone.length === 0) throw new Failure("not-found", `account "${account}" has no trusted network ${n}`);
  return n;
}
