/**
 * Delivery workers take due recipients with a lease: one UPDATE … RETURNING, so two
 * workers (in one process or many, on one database) never hold the same recipient, and a
 * crashed worker's recipients come back when the lease runs out. All due recipients of a
 * message at one domain are leased together, to go in one SMTP transaction.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";

export interface LeasedRecipient {
  id: number;
  message_id: string;
  address: string;
  domain: string;
  notify: string | null;
  orcpt: string | null;
  attempts: number;
}

export interface DeliveryGroup {
  messageId: string;
  domain: string;
  recipients: LeasedRecipient[];
}

export async function leaseDueGroups(db: Db, owner: string, now: number, leaseMs: number, maxGroups: number): Promise<DeliveryGroup[]> {
  const rows = await db.all<LeasedRecipient>(sql`
    UPDATE recipients SET lease_until = ${now + leaseMs}, lease_owner = ${owner}
    WHERE state IN ('queued', 'deferred') AND next_attempt_at <= ${now} AND lease_until <= ${now}
      AND (message_id, domain) IN (
        SELECT message_id, domain FROM recipients
        WHERE state IN ('queued', 'deferred') AND next_attempt_at <= ${now} AND lease_until <= ${now}
        GROUP BY message_id, domain
        ORDER BY min(next_attempt_at)
        LIMIT ${maxGroups})
    RETURNING id, message_id, address, domain, notify, orcpt, attempts`);
  const groups = new Map<string, DeliveryGroup>();
  for (const r of rows) {
    const key = `${r.message_id}\0${r.domain}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { messageId: r.message_id, domain: r.domain, recipients: [] }));
    g.recipients.push(r);
  }
  for (const g of groups.values()) g.recipients.sort((a, b) => a.id - b.id);
  return [...groups.values()];
}

/**
 * Gives a lease back unused (the destination was busy). The recipients become due again
 * at `notBefore`, behind work for other destinations, which would otherwise starve.
 */
export async function releaseLease(db: Db, owner: string, ids: number[], notBefore: number): Promise<void> {
  if (ids.length === 0) return;
  await db.run(sql`
    UPDATE recipients SET lease_until = 0, lease_owner = NULL, next_attempt_at = max(next_attempt_at, ${notBefore})
    WHERE lease_owner = ${owner} AND id IN (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`);
}
