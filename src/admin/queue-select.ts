/** Which recipients a queue command means: one message by id, or a filter by state, account and domain. */
import type { Db } from "../db/client.ts";
import { accountIdByName } from "./accounts.ts";
import { Failure } from "../core/failure.ts";

/** Recipients still to deliver: the queue. */
export const PENDING_STATES = ["queued", "deferred", "held"] as const;
export type PendingState = (typeof PENDING_STATES)[number];

export interface QueueFilter {
  id?: string;
  state?: PendingState;
  account?: string;
  domain?: string;
}

export interface Where {
  sql: string;
  args: (string | number)[];
}

export function isPendingState(s: string): s is PendingState {
  return (PENDING_STATES as readonly string[]).includes(s);
}

/** The WHERE clause over `recipients r JOIN messages m`, limited to `states`. */
export async function whereOf(db: Db, f: QueueFilter, states: readonly PendingState[]): Promise<Where> {
  if (f.state !== undefined && !isPendingState(f.state)) throw new Failure("invalid", `state must be one of ${PENDING_STATES.join(", ")}`);
  const wanted = f.state === undefined ? states : states.filter((s) => s === f.state);
  const parts = [`r.state IN (${wanted.length ? wanted.map((s) => `'${s}'`).join(", ") : "NULL"})`];
  const args: (string | number)[] = [];
  if (f.id !== undefined) {
    parts.push("r.message_id = ?");
    args.push(f.id);
  }
  if (f.account !== undefined) {
    parts.push("m.account_id = ?");
    args.push(await accountIdByName(db, f.account));
  }
  if (f.domain !== undefined) {
    parts.push("r.domain = ?");
    args.push(f.domain.toLowerCase());
  }
  return { sql: parts.join(" AND "), args };
}

/** A message id must name a message, so a typo is an error rather than "0 recipients". */
export async function requireMessage(db: Db, id: string): Promise<void> {
  const rs = await db.$client.execute({ sql: "SELECT 1 FROM messages WHERE id = ?", args: [id] });
  if (rs.rows.length === 0) throw new Failure("not-found", `no message with id "${id}"`);
}
