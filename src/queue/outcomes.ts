/**
 * Recording what an attempt did, per recipient, by the worker holding the lease: the new
 * state, the attempt count, the upstream's reply, an event — and, for bounces, the DSN
 * message queued in the same transaction, so a bounce is never recorded without its DSN.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { events, recipients } from "../db/schema.ts";
import { insertMessage, type NewMessage } from "./enqueue.ts";

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

/** Returns the ids whose lease this owner still held (only those were recorded). */
export async function recordOutcomes(db: Db, owner: string, messageId: string, updates: RecipientUpdate[], now: number, dsn: (recorded: RecipientUpdate[]) => NewMessage | null): Promise<number[]> {
  return db.transaction(async (tx) => {
    const recorded: RecipientUpdate[] = [];
    for (const u of updates) {
      const changed = await tx
        .update(recipients)
        .set({
          state: u.state,
          attempts: sql`${recipients.attempts} + 1`,
          nextAttemptAt: u.nextAttemptAt ?? now,
          lastReply: u.reply,
          leaseUntil: 0,
          leaseOwner: null,
          updatedAt: now,
        })
        .where(and(eq(recipients.id, u.id), eq(recipients.leaseOwner, owner)))
        .returning({ id: recipients.id });
      if (changed.length === 0) continue; // the lease ran out and another worker has it
      recorded.push(u);
      await tx.insert(events).values({ messageId, recipient: u.address, type: u.state, detail: `${u.reply} (via ${u.via})`, createdAt: now });
    }
    const bounce = dsn(recorded.filter((u) => u.state === "bounced"));
    if (bounce) await insertMessage(tx, bounce, now);
    return recorded.map((u) => u.id);
  });
}
