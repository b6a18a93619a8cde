/** `smarthost suppression list|add|remove`, and the same over the admin API. */
import type { Database } from "../db/client.ts";
import { listSuppressions, suppressionJson } from "../suppression/store.ts";
import { addSuppressions, removeSuppressionEntry } from "../suppression/manage.ts";
import { accountIdByName } from "./accounts.ts";
import { GroupCommit } from "../db/group-commit.ts";
import { Failure, isFailure } from "../core/failure.ts";

const PAGE = 1000;

/**
 * The handles these need: the CLI passes its Database; the admin API the gateway's, with
 * its writer (on Workers every write must go through that one).
 */
export type FeedbackDb = Pick<Database, "db" | "sql"> & { writer?: GroupCommit };
export const writerOf = (d: FeedbackDb): GroupCommit => d.writer ?? new GroupCommit(d.sql);

async function adminErrors<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (isFailure(err, "invalid")) throw new Failure("invalid", err.message);
    throw err;
  }
}

/** Every entry in force (of one account, or all), each with its account's name. */
export async function suppressionRows(d: FeedbackDb, account: string | undefined) {
  const accountId = account === undefined ? null : await accountIdByName(d.db, account);
  const names = new Map((await d.sql.execute("SELECT id, name FROM accounts")).rows.map((r) => [String(r.id), String(r.name)]));
  const now = Date.now();
  const all = [];
  for (let after = 0; ; ) {
    const page = await listSuppressions(d.sql, accountId, { after, limit: PAGE, now });
    all.push(...page);
    if (page.length < PAGE) break;
    after = page.at(-1)!.id;
  }
  return all.map((s) => ({ account: names.get(s.accountId) ?? s.accountId, ...suppressionJson(s) }));
}

export async function suppressAddress(d: FeedbackDb, account: string, address: string): Promise<string> {
  const accountId = await accountIdByName(d.db, account);
  const [added] = await adminErrors(addSuppressions(writerOf(d), accountId, [address], "manual", Date.now()));
  return added!;
}

export async function unsuppressAddress(d: FeedbackDb, account: string, address: string): Promise<void> {
  const accountId = await accountIdByName(d.db, account);
  if (!(await adminErrors(removeSuppressionEntry(writerOf(d), accountId, address, Date.now())))) throw new Failure("not-found", `${address} is not on the suppression list of ${account}`);
}
