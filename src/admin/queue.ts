/** `smarthost queue`: recipients not yet delivered or bounced, with attempts and last reply. */
import { and, asc, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { messages, recipients } from "../db/schema.ts";

export async function queueListing(db: Db): Promise<string> {
  const rows = await db
    .select({
      id: recipients.messageId,
      from: messages.mailFrom,
      rcpt: recipients.address,
      state: recipients.state,
      attempts: recipients.attempts,
      next: recipients.nextAttemptAt,
      reply: recipients.lastReply,
    })
    .from(recipients)
    .innerJoin(messages, eq(messages.id, recipients.messageId))
    .where(and(inArray(recipients.state, ["queued", "deferred"])))
    .orderBy(asc(recipients.nextAttemptAt));
  if (rows.length === 0) return "queue is empty";
  const lines = rows.map(
    (r) =>
      `${r.id}  ${r.state.padEnd(8)}  attempts=${r.attempts}  next=${new Date(r.next).toISOString()}  <${r.from}> -> <${r.rcpt}>${r.reply ? `\n    last reply: ${r.reply}` : ""}`,
  );
  return `${lines.join("\n")}\n${rows.length} recipient(s) queued`;
}
