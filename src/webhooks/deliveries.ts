/**
 * Webhook delivery rows in SQL: leasing due ones (one UPDATE … RETURNING, so several
 * nodes share the work), recording each attempt with its outcome, listing and replaying.
 */
import type { InStatement } from "@libsql/client";
import { placeholders, type Plan, type Sql, type SqlCondition } from "../db/raw.ts";
import { appendEventStatements } from "../events/append.ts";
import { eventRowOf, type EventRow } from "../events/payload.ts";
import { DISABLE_AFTER_MS } from "./schedule.ts";

export interface DueDelivery {
  id: number;
  attempts: number;
  endpoint: { id: string; accountId: string; url: string; secret: string; previousSecret: string | null; previousUntil: number | null };
  event: EventRow;
}

// Only endpoints still enabled: a disabled one keeps its rows for when it is enabled again.
// A removed endpoint (or account) takes its deliveries with it (ON DELETE CASCADE), so
// nothing is leased for an endpoint that no longer exists.
const LEASE = `UPDATE webhook_deliveries SET lease_until = ? WHERE id IN (
    SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
    WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND d.lease_until <= ? AND e.enabled = 1
    ORDER BY d.next_attempt_at LIMIT ?)
  RETURNING id`;

const DETAILS = `SELECT d.id, d.attempts, e.id AS endpoint_id, e.account_id, e.url, e.secret, e.previous_secret, e.previous_until,
    v.id AS event_id, v.type, v.data, v.created_at
  FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id JOIN account_events v ON v.id = d.event_id
  WHERE d.id`;

/** A read without a transaction: is anything due at all? */
export async function anyDue(sql: Sql, now: number): Promise<boolean> {
  const rs = await sql.execute({ sql: "SELECT 1 AS due FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ? AND lease_until <= ? LIMIT 1", args: [now, now] });
  return rs.rows.length > 0;
}

/**
 * Leasing due deliveries: one statement, so on a remote database one request with no
 * transaction held across the network (db/raw.ts Plan). Returns the leased ids.
 */
export function leaseDuePlan(now: number, leaseMs: number, max: number): Plan<number[]> {
  return { statements: [{ sql: LEASE, args: [now + leaseMs, now, now, max] }], decode: (results) => results[0]!.rows.map((r) => Number(r.id)) };
}

/** What leased deliveries need to be sent (read after the lease is committed: they are this node's now). */
export async function leasedDetails(sql: Sql, ids: number[]): Promise<DueDelivery[]> {
  if (ids.length === 0) return [];
  const rs = await sql.execute({ sql: `${DETAILS} IN (${placeholders(ids.length)}) ORDER BY d.id`, args: ids });
  return rs.rows.map((r) => ({
    id: Number(r.id),
    attempts: Number(r.attempts),
    endpoint: {
      id: String(r.endpoint_id),
      accountId: String(r.account_id),
      url: String(r.url),
      secret: String(r.secret),
      previousSecret: (r.previous_secret as string | null) ?? null,
      previousUntil: r.previous_until === null ? null : Number(r.previous_until),
    },
    event: eventRowOf({ ...r, id: r.event_id }),
  }));
}

export interface AttemptResult {
  /** HTTP status; null when no answer came. */
  status: number | null;
  latencyMs: number;
  /** The first bytes of the answer, or why there was none. */
  response: string;
  outcome: "delivered" | "retry" | "failed" | "gone";
  /** For retry: when. */
  nextAttemptAt?: number;
}

/**
 * An attempt's record as one plan (db/raw.ts): the attempt row, the delivery's new state and
 * the endpoint's health, decided in SQL so the write lock is never held across a round trip.
 * Nothing is written when the delivery is gone (its endpoint or account removed while the
 * request was out). An endpoint that answered 410 Gone, or has failed for 3 days, is
 * disabled with a webhook.disabled event — the event only where this plan disabled it.
 */
export function recordAttemptPlan(d: DueDelivery, r: AttemptResult, now: number): Plan<void> {
  const exists: SqlCondition = { sql: "EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = ?)", args: [d.id] };
  const state = r.outcome === "delivered" ? "delivered" : r.outcome === "retry" ? "pending" : "failed";
  const statements: InStatement[] = [
    { sql: "INSERT INTO webhook_attempts (delivery_id, attempted_at, status, latency_ms, response) SELECT id, ?, ?, ?, ? FROM webhook_deliveries WHERE id = ?", args: [now, r.status, r.latencyMs, r.response, d.id] },
    { sql: "UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?, lease_until = 0, last_status = ?, updated_at = ? WHERE id = ?", args: [state, r.nextAttemptAt ?? now, r.status, now, d.id] },
  ];
  if (r.outcome === "delivered") {
    statements.push({ sql: `UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL AND ${exists.sql}`, args: [d.endpoint.id, ...exists.args] });
  } else if (r.outcome === "gone") {
    statements.push(...disableStatements(d, "the endpoint answered 410 Gone", exists, now));
  } else {
    statements.push({ sql: `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ?) WHERE id = ? AND ${exists.sql}`, args: [now, d.endpoint.id, ...exists.args] });
    const longFailing: SqlCondition = { sql: `${exists.sql} AND (SELECT failing_since FROM webhook_endpoints WHERE id = ?) <= ?`, args: [...exists.args, d.endpoint.id, now - DISABLE_AFTER_MS] };
    statements.push(...disableStatements(d, "failing for 3 days", longFailing, now));
  }
  return { statements, decode: () => undefined };
}

/** The endpoint disabled where `when` holds and it is still enabled; its event first, while that can still be read. */
function disableStatements(d: DueDelivery, reason: string, when: SqlCondition, now: number): InStatement[] {
  const e = d.endpoint;
  const enabled: SqlCondition = { sql: `${when.sql} AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ? AND enabled = 1)`, args: [...when.args, e.id] };
  return [
    ...appendEventStatements({ accountId: e.accountId, type: "webhook.disabled", data: { webhook_id: e.id, url: e.url, reason }, now }, enabled, { path: "$.url", sql: "(SELECT url FROM webhook_endpoints WHERE id = ?)", args: [e.id] }),
    { sql: `UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ? WHERE id = ? AND enabled = 1 AND ${when.sql}`, args: [reason, e.id, ...when.args] },
  ];
}

/** Sends a delivery again now (its id, and so the receiver's dedup key, stays the same). */
export async function replayDelivery(sql: Sql, accountId: string, deliveryId: number, now: number): Promise<boolean> {
  const rs = await sql.execute({
    sql: `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ?, lease_until = 0, updated_at = ?
      WHERE id = ? AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE account_id = ?) RETURNING id`,
    args: [now, now, deliveryId, accountId],
  });
  return rs.rows.length > 0;
}

/** An endpoint's deliveries, newest first, each with its attempts. */
export async function listDeliveries(sql: Sql, endpointId: string, before: number | null, limit: number) {
  const rs = await sql.execute({
    sql: `SELECT d.id, d.event_id, v.type, d.state, d.attempts, d.next_attempt_at, d.last_status, d.created_at
      FROM webhook_deliveries d JOIN account_events v ON v.id = d.event_id
      WHERE d.endpoint_id = ? AND d.id < ? ORDER BY d.id DESC LIMIT ?`,
    args: [endpointId, before ?? Number.MAX_SAFE_INTEGER, limit],
  });
  const out = [];
  for (const r of rs.rows) {
    const at = await sql.execute({ sql: "SELECT attempted_at, status, latency_ms, response FROM webhook_attempts WHERE delivery_id = ? ORDER BY id", args: [Number(r.id)] });
    out.push({
      id: Number(r.id),
      event_id: `evt_${Number(r.event_id)}`,
      type: String(r.type),
      state: String(r.state),
      attempts: Number(r.attempts),
      next_attempt_at: r.state === "pending" ? new Date(Number(r.next_attempt_at)).toISOString() : null,
      last_status: r.last_status === null ? null : Number(r.last_status),
      created_at: new Date(Number(r.created_at)).toISOString(),
      attempt_log: at.rows.map((a) => ({
        at: new Date(Number(a.attempted_at)).toISOString(),
        status: a.status === null ? null : Number(a.status),
        latency_ms: Number(a.latency_ms),
        response: a.response as string | null,
      })),
    });
  }
  return out;
}
