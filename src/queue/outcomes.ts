/**
 * Recording what an attempt did, per recipient, by the worker holding the lease: the new
 * state, the attempt count, the upstream's reply, an event — and, for bounces, the DSN
 * message queued in the same transaction, so a bounce is never recorded without its DSN.
 */
import type { Sql } from "../db/raw.ts";
import { insertMessage, type NewMessage } from "./enqueue.ts";
import type { GroupCommit } from "./group-commit.ts";
import { recordMessageEvent } from "../events/record.ts";

export interface RecipientUpdate {
  id: number;
  address: string;
  state: "delivered" | "deferred" | "bounced";
  /** For deferred: when to try again. */
  nextAttemptAt?: number;
  /** The upstream's reply (or the local reason), as one line. */
  reply: string;
  /** Where it was tried (route or MX host), for the event. */
  via: string;
}

const UPDATE = `UPDATE recipients SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_reply = ?,
  lease_until = 0, lease_owner = NULL, updated_at = ? WHERE id = ? AND lease_owner = ? RETURNING id`;

/** Returns the ids whose lease this owner still held (only those were recorded). */
export function recordOutcomes<U extends RecipientUpdate>(writer: GroupCommit, owner: string, messageId: string, updates: U[], now: number, dsn: (bounced: U[]) => NewMessage | null): Promise<number[]> {
  return writer.write(async (sql: Sql) => {
    const recorded: U[] = [];
    for (const u of updates) {
      const changed = await sql.execute({ sql: UPDATE, args: [u.state, u.nextAttemptAt ?? now, u.reply, now, u.id, owner] });
      if (changed.rows.length === 0) continue; // the lease ran out and another worker has it
      recorded.push(u);
      await recordMessageEvent(sql, { messageId, recipient: u.address, trace: u.state, detail: `${u.reply} (via ${u.via})`, now, reply: u.reply, via: u.via, recipientRowId: u.id });
    }
    const bounce = dsn(recorded.filter((u) => u.state === "bounced"));
    if (bounce) await insertMessage(sql, bounce, now);
    return recorded.map((u) => u.id);
  });
}
