/**
 * Delivery workers take due recipients with a lease: one UPDATE … RETURNING, so two
 * workers (in one process or many, on one database) never hold the same recipient, and a
 * crashed worker's recipients come back when the lease runs out. All due recipients of a
 * message at one domain are leased together, to go in one SMTP transaction.
 *
 * Only queued and deferred recipients are ever leased: held ones (`queue hold`) wait for
 * `queue release`, and the partial index recipients_pending holds neither them nor the
 * finished ones.
 */
import type { InStatement } from "@libsql/client";
import { placeholders, type Plan, type SqlResult } from "../db/raw.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import type { StoredMessage } from "./stored.ts";

export interface LeasedRecipient {
  id: number;
  message_id: string;
  address: string;
  domain: string;
  notify: string | null;
  orcpt: string | null;
  attempts: number;
  /** Time spent waiting on our own pacing, not counted against the queue lifetime. */
  waitedMs: number;
}

export interface DeliveryGroup {
  messageId: string;
  domain: string;
  recipients: LeasedRecipient[];
  /** The message itself when it was handed over from memory (src/queue/handoff.ts). */
  message?: StoredMessage;
}

const LEASE = `
  UPDATE recipients SET lease_until = ?1, lease_owner = ?2
  WHERE state IN ('queued', 'deferred') AND next_attempt_at <= ?3 AND lease_until <= ?3
    AND (message_id, domain) IN (
      SELECT message_id, domain FROM recipients INDEXED BY recipients_pending
      WHERE state IN ('queued', 'deferred') AND next_attempt_at <= ?3 AND lease_until <= ?3
      ORDER BY next_attempt_at
      LIMIT ?4)
  RETURNING id, message_id, address, domain, notify, orcpt, attempts, waited_ms`;

export async function leaseDueGroups(writer: GroupCommit, owner: string, now: number, leaseMs: number, maxGroups: number): Promise<DeliveryGroup[]> {
  // Not durable: a lease forgotten by a power loss only lets the recipients be leased again.
  const rs = await writer.writePlan(single({ sql: LEASE, args: [now + leaseMs, owner, now, maxGroups] }), { durable: false });
  const groups = new Map<string, DeliveryGroup>();
  for (const row of rs.rows) {
    const r = row as unknown as LeasedRecipient & { waited_ms: number };
    const key = `${r.message_id}\0${r.domain}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { messageId: r.message_id, domain: r.domain, recipients: [] }));
    g.recipients.push({ id: Number(r.id), message_id: r.message_id, address: r.address, domain: r.domain, notify: r.notify, orcpt: r.orcpt, attempts: Number(r.attempts), waitedMs: Number(r.waited_ms ?? 0) });
  }
  for (const g of groups.values()) g.recipients.sort((a, b) => a.id - b.id);
  return [...groups.values()];
}

/**
 * Gives a lease back unused (the destination was busy). The recipients become due again
 * at `notBefore`, behind work for other destinations, which would otherwise starve.
 */
export async function releaseLease(writer: GroupCommit, owner: string, ids: number[], notBefore: number): Promise<void> {
  if (ids.length === 0) return;
  await writer.writePlan(
    single({
      sql: `UPDATE recipients SET lease_until = 0, lease_owner = NULL, next_attempt_at = max(next_attempt_at, ?)
            WHERE lease_owner = ? AND id IN (${placeholders(ids.length)})`,
      args: [notBefore, owner, ...ids],
    }),
    { durable: false },
  );
}

/**
 * Puts leased recipients back to wait for our own pacing (every route at its quota or
 * down) until `notBefore`: no attempt counted, no backoff growth, the wait added to
 * waited_ms so the queue lifetime does not run during it, and the reason kept as the last
 * reply and in the trace.
 */
export async function postponeLease(writer: GroupCommit, owner: string, messageId: string, ids: number[], notBefore: number, reason: string, now: number): Promise<void> {
  if (ids.length === 0) return;
  const mine = `lease_owner = ? AND id IN (${placeholders(ids.length)})`;
  const statements = [
    // The trace rows first, while the recipients are still leased to this owner.
    { sql: `INSERT INTO events (message_id, recipient, type, detail, created_at) SELECT ?, address, 'deferred', ?, ? FROM recipients WHERE ${mine} ORDER BY id`, args: [messageId, reason, now, owner, ...ids] },
    {
      // Deferred, not queued: a queued recipient counts as "first attempt still to come" and
      // would hold back the DSN for the message's other recipients (queue/outcomes.ts).
      sql: `UPDATE recipients SET state = 'deferred', lease_until = 0, lease_owner = NULL, next_attempt_at = ?1, last_reply = ?2,
              waited_ms = waited_ms + max(0, ?1 - ?3), updated_at = ?3
            WHERE lease_owner = ?4 AND id IN (${ids.map((_, i) => `?${i + 5}`).join(", ")})`,
      args: [notBefore, reason, now, owner, ...ids],
    },
  ];
  await writer.writePlan({ statements, decode: () => undefined }, { durable: false });
}

/** One statement as a plan: its result. */
const single = (stmt: InStatement): Plan<SqlResult> => ({ statements: [stmt], decode: (results) => results[0]! });
