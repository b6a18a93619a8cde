/**
 * Managing an account's suppression list (CLI and HTTP): add one or many, remove, read.
 * Each change runs in one write transaction with its events, through the process's
 * writer (one connection: a transaction of its own would collide with the group commit).
 */
import type { Sql } from "../db/raw.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import { addSuppression, normalizeSuppressionAddress, removeSuppression } from "./store.ts";
import { Failure } from "../core/failure.ts";

export const BULK_LIMIT = 1000;


/** Runs `fn` in a write transaction of the writer; a throw rolls back `fn` alone. */
export const inWriteTransaction = <T>(writer: GroupCommit, fn: (sql: Sql) => Promise<T>): Promise<T> => writer.write(fn, { isolated: true });

async function accountName(sql: Sql, accountId: string): Promise<string> {
  const rs = await sql.execute({ sql: "SELECT name FROM accounts WHERE id = ?", args: [accountId] });
  return (rs.rows[0]?.name as string | undefined) ?? accountId;
}

/** Adds every address (all valid, or none is added). Returns them normalized. */
export async function addSuppressions(writer: GroupCommit, accountId: string, inputs: string[], reason: "manual" | "complaint", now: number): Promise<string[]> {
  if (inputs.length === 0) throw new Failure("invalid", "no address given", { code: "invalid_address", field: "address" });
  if (inputs.length > BULK_LIMIT) throw new Failure("invalid", `at most ${BULK_LIMIT} addresses at once`, { code: "invalid_address", field: "address" });
  const addresses = inputs.map((a, i) => {
    const n = normalizeSuppressionAddress(a);
    if (!n) throw new Failure("invalid", `${inputs.length > 1 ? `addresses[${i}]: ` : ""}not an address or *@domain: ${JSON.stringify(a.slice(0, 100))}`, { code: "invalid_address", field: "address" });
    return n;
  });
  const unique = [...new Set(addresses)];
  await inWriteTransaction(writer, async (sql) => {
    const account = await accountName(sql, accountId);
    for (const a of unique) await addSuppression(sql, accountId, account, a, reason, now);
  });
  return unique;
}

export async function removeSuppressionEntry(writer: GroupCommit, accountId: string, input: string, now: number): Promise<boolean> {
  const address = normalizeSuppressionAddress(input);
  if (!address) throw new Failure("invalid", `not an address or *@domain: ${JSON.stringify(input.slice(0, 100))}`, { code: "invalid_address", field: "address" });
  return inWriteTransaction(writer, async (sql) => removeSuppression(sql, accountId, await accountName(sql, accountId), address, now));
}
