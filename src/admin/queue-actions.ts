/**
 * `queue retry|hold|release|delete`: acting on recipients still to deliver. Each runs in
 * one write transaction: the state change, an event per recipient on its message, and for
 * `delete --bounce` the DSN, so none is ever recorded without the others.
 *
 * A recipient leased by a delivery worker at that moment is left alone (its outcome is
 * about to be recorded) and counted as `in_delivery`.
 */
import type { Db } from "../db/client.ts";
import { GroupCommit } from "../db/group-commit.ts";
import { buildDsn, wantsFailureDsn } from "../delivery/dsn.ts";
import { insertMessage, type NewMessage } from "../queue/enqueue.ts";
import { loadMessage, type StoredMessage } from "../queue/stored.ts";
import { requireMessage, whereOf, type PendingState, type QueueFilter } from "./queue-select.ts";
import { Failure } from "../core/failure.ts";

export type QueueAction = "retry" | "hold" | "release" | "delete";

const SCHEDULED = "hold_reason = 'scheduled' AND attempts = 0";

/** What each action applies to, what it sets, and the event it records. */
const ACTIONS: Record<QueueAction, { from: readonly PendingState[]; set: string; event: string; detail: string }> = {
  // Due now: the next lease (every SMARTHOST_DELIVERY_POLL_MS) takes it.
  // A scheduled message not yet due keeps its time (queue/schedule.ts): retry --all never sends one early.
  retry: { from: ["queued", "deferred"], set: `next_attempt_at = CASE WHEN ${SCHEDULED} THEN next_attempt_at ELSE ? END`, event: "retried", detail: "retry now, by the operator" },
  // The lease (queue/lease.ts) takes only queued and deferred: a held recipient is never leased.
  hold: { from: ["queued", "deferred"], set: "state = 'held'", event: "held", detail: "held by the operator" },
  release: { from: ["held"], set: `state = CASE WHEN attempts > 0 THEN 'deferred' ELSE 'queued' END, next_attempt_at = CASE WHEN ${SCHEDULED} THEN max(next_attempt_at, ?) ELSE ? END`, event: "released", detail: "released by the operator" },
  delete: { from: ["queued", "deferred", "held"], set: "state = 'deleted', last_reply = '550 5.0.0 Removed from the queue by the postmaster'", event: "deleted", detail: "removed from the queue by the operator" },
};

export interface ActionResult {
  action: QueueAction;
  messages: number;
  recipients: number;
  /** Matching recipients being delivered right now, left as they are. */
  in_delivery: number;
  /** DSN messages queued (delete with bounce). */
  dsns: number;
}

export interface Matched {
  messages: number;
  recipients: number;
}

/** How many messages and recipients an action would touch (the count shown before a bulk action). */
export async function countMatching(db: Db, action: QueueAction, filter: QueueFilter): Promise<Matched> {
  const where = await whereOf(db, filter, ACTIONS[action].from);
  const rs = await db.$client.execute({
    sql: `SELECT count(*) AS n, count(DISTINCT r.message_id) AS m FROM recipients r JOIN messages m ON m.id = r.message_id WHERE ${where.sql}`,
    args: where.args,
  });
  return { messages: Number(rs.rows[0]?.m ?? 0), recipients: Number(rs.rows[0]?.n ?? 0) };
}

export interface ActOptions {
  now: number;
  /** delete only: send the sender one DSN per message for the removed recipients. */
  bounce?: boolean;
  /** The relay's host name, for the DSN. */
  hostname: string;
  /** The process's writer (serve, the admin API, the dashboard); a CLI run makes its own. */
  writer?: GroupCommit;
}

export async function queueAct(db: Db, action: QueueAction, filter: QueueFilter, o: ActOptions): Promise<ActionResult> {
  if (o.bounce && action !== "delete") throw new Failure("invalid", "--bounce goes with delete only");
  if (filter.id !== undefined) await requireMessage(db, filter.id);
  const a = ACTIONS[action];
  const where = await whereOf(db, filter, a.from);
  // Through the writer, so the action shares the group commit's connection and lock
  // instead of opening a second transaction beside it.
  const writer = o.writer ?? new GroupCommit(db.$client);
  return writer.write(async (tx) => {
    const busy = await tx.execute({
      sql: `SELECT count(*) AS n FROM recipients r JOIN messages m ON m.id = r.message_id WHERE ${where.sql} AND r.lease_until > ?`,
      args: [...where.args, o.now],
    });
    const rs = await tx.execute({
      sql: `UPDATE recipients SET ${a.set}, updated_at = ? WHERE id IN (
              SELECT r.id FROM recipients r JOIN messages m ON m.id = r.message_id WHERE ${where.sql} AND r.lease_until <= ?)
            RETURNING id, message_id, address, notify, orcpt`,
      // Every placeholder of the SET clause stands for now (plain `?`, in order: no renumbering).
      args: [...(a.set.match(/\?/g) ?? []).map(() => o.now), o.now, ...where.args, o.now],
    });
    const byMessage = new Map<string, { address: string; notify: string | null; orcpt: string | null }[]>();
    for (const r of rs.rows) {
      const id = String(r.message_id);
      const address = String(r.address);
      if (!byMessage.has(id)) byMessage.set(id, []);
      byMessage.get(id)!.push({ address, notify: r.notify === null ? null : String(r.notify), orcpt: r.orcpt === null ? null : String(r.orcpt) });
      await tx.execute({ sql: "INSERT INTO events (message_id, recipient, type, detail, created_at) VALUES (?, ?, ?, ?, ?)", args: [id, address, a.event, a.detail, o.now] });
    }
    let dsns = 0;
    if (o.bounce) {
      for (const [id, removed] of byMessage) {
        const m = await loadMessage(tx, id);
        const dsn = m ? operatorDsn(m, removed, o.hostname, o.now) : null;
        if (!dsn) continue;
        await insertMessage(tx, dsn, o.now);
        dsns++;
      }
    }
    return { action, messages: byMessage.size, recipients: rs.rows.length, in_delivery: Number(busy.rows[0]?.n ?? 0), dsns };
  });
}

const REMOVED = { code: 550, enhanced: "5.0.0", text: "Removed from the queue by the postmaster" };

/**
 * The one DSN for a message's removed recipients, through the delivery's DSN builder (the
 * only place this module depends on its shape). None for a null sender, or for recipients
 * whose NOTIFY leaves out FAILURE (RFC 3461 §4.1).
 */
function operatorDsn(m: StoredMessage, removed: { address: string; notify: string | null; orcpt: string | null }[], hostname: string, now: number): NewMessage | null {
  const due = removed.filter((r) => wantsFailureDsn(r.notify));
  if (due.length === 0) return null;
  return buildDsn(m, due.map((r) => ({ address: r.address, orcpt: r.orcpt, notify: r.notify, reply: REMOVED, remoteMta: null, at: now })), hostname, new Date(now));
}
