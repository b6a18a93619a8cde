/**
 * The suppression list at submission: which recipients are held back, and the
 * `message.suppressed` event for each (recorded whether the message goes on or not).
 */
import type { Sql } from "../db/raw.ts";
import { appendEvent } from "../events/append.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import { activeSuppressions, type Suppression } from "./store.ts";

export interface SuppressedRecipient {
  address: string;
  entry: Suppression;
}

/** Splits recipients into those that go on and those on the account's list. */
export async function splitSuppressed<R extends { address: string }>(sql: Sql, accountId: string, recipients: R[], now: number): Promise<{ kept: R[]; suppressed: SuppressedRecipient[] }> {
  const hits = await activeSuppressions(sql, accountId, recipients.map((r) => r.address), now);
  const kept: R[] = [];
  const suppressed: SuppressedRecipient[] = [];
  for (const r of recipients) {
    const entry = hits.get(r.address.toLowerCase());
    if (entry) suppressed.push({ address: r.address, entry });
    else kept.push(r);
  }
  return { kept, suppressed };
}

/** One `message.suppressed` event per recipient held back; `messageId` is null when nothing was stored. */
export function recordSuppressed(writer: GroupCommit, accountId: string, hits: SuppressedRecipient[], m: { messageId: string | null; from: string | null }, now: number): Promise<void> {
  if (hits.length === 0) return Promise.resolve();
  return writer.write(async (sql) => {
    const rs = await sql.execute({ sql: "SELECT name FROM accounts WHERE id = ?", args: [accountId] });
    const account = (rs.rows[0]?.name as string | undefined) ?? accountId;
    for (const h of hits) {
      await appendEvent(sql, {
        accountId,
        type: "message.suppressed",
        messageId: m.messageId,
        data: {
          message_id: m.messageId ?? undefined,
          account,
          from: m.from ?? "",
          recipient: h.address,
          reason: h.entry.reason,
          suppressed_since: new Date(h.entry.createdAt).toISOString(),
        },
        now,
      });
    }
  });
}
