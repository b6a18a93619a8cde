/**
 * A recipient's one-click unsubscribe (RFC 8058), as a suppression entry with reason
 * `unsubscribe` that stays until removed, and its two events in the same transaction:
 * `suppression.added` and `recipient.unsubscribed` (a webhook like any other).
 */
import type { GroupCommit } from "../db/group-commit.ts";
import { appendEvent } from "../events/append.ts";
import { inWriteTransaction } from "./manage.ts";
import { normalizeSuppressionAddress } from "./store.ts";
import type { UnsubscribeClaim } from "./unsubscribe-token.ts";

export type UnsubscribeOutcome = "unsubscribed" | "already-suppressed" | "no-account";

// A bounce entry (it expires) becomes a lasting unsubscribe; a manual, complaint or earlier
// unsubscribe entry already lasts and is left as it is: a repeated POST changes nothing.
const UPSERT_UNSUBSCRIBE = `INSERT INTO suppressions (account_id, address, reason, message_id, created_at, expires_at) VALUES (?, ?, 'unsubscribe', ?, ?, NULL)
  ON CONFLICT (account_id, address) DO UPDATE SET reason = 'unsubscribe', message_id = excluded.message_id, created_at = excluded.created_at, expires_at = NULL
  WHERE suppressions.expires_at IS NOT NULL
  RETURNING id`;

export async function recordUnsubscribe(writer: GroupCommit, claim: UnsubscribeClaim, now: number): Promise<UnsubscribeOutcome> {
  const address = normalizeSuppressionAddress(claim.address) ?? claim.address.toLowerCase();
  return inWriteTransaction(writer, async (sql) => {
    const acc = await sql.execute({ sql: "SELECT name FROM accounts WHERE id = ?", args: [claim.accountId] });
    if (acc.rows.length === 0) return "no-account";
    const account = String(acc.rows[0]!.name);
    const rs = await sql.execute({ sql: UPSERT_UNSUBSCRIBE, args: [claim.accountId, address, claim.messageId, now] });
    if (rs.rows.length === 0) return "already-suppressed";
    // The message may be gone already (retention); the event says so by leaving `from` out.
    const msg = await sql.execute({ sql: "SELECT mail_from FROM messages WHERE id = ? AND account_id = ?", args: [claim.messageId, claim.accountId] });
    const from = msg.rows[0] ? String(msg.rows[0].mail_from) : undefined;
    await appendEvent(sql, { accountId: claim.accountId, type: "suppression.added", messageId: claim.messageId, data: { account, address, reason: "unsubscribe", message_id: claim.messageId }, now });
    await appendEvent(sql, { accountId: claim.accountId, type: "recipient.unsubscribed", messageId: claim.messageId, data: { message_id: claim.messageId, account, ...(from !== undefined ? { from } : {}), recipient: address, method: "one-click" }, now });
    return "unsubscribed";
  });
}
