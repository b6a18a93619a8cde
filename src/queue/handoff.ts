/**
 * Handing a freshly accepted message straight to this process's delivery worker: its
 * recipients are leased in the very transaction that accepts it, and the worker gets the
 * message from memory after COMMIT. That spares a lease transaction and reading the
 * message back for every message. If the process dies first, the lease runs out and any
 * worker takes the recipients as usual: nothing accepted depends on the hand-off.
 */
import type { DeliveryGroup, LeasedRecipient } from "./lease.ts";
import type { StoredMessage } from "./stored.ts";

export interface Lease {
  owner: string;
  until: number;
}

export interface Handoff {
  /** A lease for one message's recipients, or null when the worker has no room now. */
  claim(now: number): Lease | null;
  /** After COMMIT: the leased recipients, grouped for delivery, with the message. */
  take(message: StoredMessage, groups: DeliveryGroup[]): void;
  /** The claimed lease went unused (nothing committed, a duplicate, or held). */
  cancel(): void;
}

/** Leased recipient rows as an insert returned them, grouped as the lease groups them. */
export function groupsOf(messageId: string, rows: readonly Record<string, unknown>[]): DeliveryGroup[] {
  const groups = new Map<string, DeliveryGroup>();
  for (const row of rows) {
    const r: LeasedRecipient = {
      id: Number(row.id),
      message_id: messageId,
      address: String(row.address),
      domain: String(row.domain),
      notify: (row.notify as string | null) ?? null,
      orcpt: (row.orcpt as string | null) ?? null,
      attempts: 0,
      waitedMs: 0,
    };
    let g = groups.get(r.domain);
    if (!g) groups.set(r.domain, (g = { messageId, domain: r.domain, recipients: [] }));
    g.recipients.push(r);
  }
  for (const g of groups.values()) g.recipients.sort((a, b) => a.id - b.id);
  return [...groups.values()];
}
