/**
 * Committing an accepted message: idempotency claim, rate-limit count, message, its
 * recipients and the "accepted" event, all in one write transaction. Either all of it is
 * durable when this returns, or none of it happened.
 */
import { and, eq, lt, sql } from "drizzle-orm";
import type { GroupCommit } from "./group-commit.ts";
import type { Tx } from "../db/exec.ts";
import { events, idempotencyKeys, messages, recipients } from "../db/schema.ts";

export const IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;

export interface NewRecipient {
  address: string;
  domain: string;
  notify?: string;
  orcpt?: string;
}

export interface NewMessage {
  id: string;
  accountId: string;
  source: "smtp" | "http" | "dsn";
  mailFrom: string;
  raw: Uint8Array;
  recipients: NewRecipient[];
  envid?: string;
  ret?: string;
  smtputf8: boolean;
  idempotencyKey?: string;
}

export type EnqueueOutcome = { id: string; duplicate: boolean };

/**
 * `admit` runs inside the transaction after the idempotency check and before the inserts
 * (the rate limit); throwing from it rolls everything back.
 */
export async function enqueueMessage(writer: GroupCommit, m: NewMessage, now: number, admit: (tx: Tx) => Promise<void>): Promise<EnqueueOutcome> {
  return writer.write(async (tx) => {
    if (m.idempotencyKey) {
      const existing = await claimIdempotencyKey(tx, m.accountId, m.idempotencyKey, m.id, now);
      if (existing) return { id: existing, duplicate: true };
    }
    await admit(tx);
    await insertMessage(tx, m, now);
    return { id: m.id, duplicate: false };
  });
}

/** The message, its recipients and its "accepted" event, inside the caller's transaction. */
export async function insertMessage(tx: Tx, m: NewMessage, now: number): Promise<void> {
  await tx.insert(messages).values({
    id: m.id,
    accountId: m.accountId,
    source: m.source,
    mailFrom: m.mailFrom,
    raw: Buffer.from(m.raw.buffer, m.raw.byteOffset, m.raw.byteLength),
    size: m.raw.byteLength,
    envid: m.envid ?? null,
    ret: m.ret ?? null,
    smtputf8: m.smtputf8,
    idempotencyKey: m.idempotencyKey ?? null,
    createdAt: now,
  });
  await tx.insert(recipients).values(
    m.recipients.map((r) => ({
      messageId: m.id,
      address: r.address,
      domain: r.domain.toLowerCase(),
      notify: r.notify ?? null,
      orcpt: r.orcpt ?? null,
      state: "queued" as const,
      nextAttemptAt: now,
      updatedAt: now,
    })),
  );
  await tx.insert(events).values({ messageId: m.id, type: "accepted", detail: `${m.source}, ${m.recipients.length} recipient(s)`, createdAt: now });
}

/** Returns the id of an earlier message with this key (within 24 h), or null once claimed for `id`. */
async function claimIdempotencyKey(tx: Tx, accountId: string, key: string, id: string, now: number): Promise<string | null> {
  const cutoff = now - IDEMPOTENCY_WINDOW_MS;
  await tx.delete(idempotencyKeys).where(and(eq(idempotencyKeys.accountId, accountId), eq(idempotencyKeys.key, key), lt(idempotencyKeys.createdAt, cutoff)));
  const claimed = await tx.all<{ message_id: string }>(sql`
    INSERT INTO idempotency_keys (account_id, key, message_id, created_at) VALUES (${accountId}, ${key}, ${id}, ${now})
    ON CONFLICT (account_id, key) DO NOTHING
    RETURNING message_id`);
  if (claimed.length > 0) return null;
  const rows = await tx.select({ messageId: idempotencyKeys.messageId }).from(idempotencyKeys).where(and(eq(idempotencyKeys.accountId, accountId), eq(idempotencyKeys.key, key)));
  return rows[0]?.messageId ?? null;
}
