/**
 * The TLS reports' rows: a (domain, day) claimed in one statement so exactly one node
 * builds each report; the report and its deliveries stored in one transaction with the
 * `mailto:` messages queued; `https:` deliveries leased and their attempts recorded.
 */
import type { Sql } from "../db/raw.ts";
import { insertMessage, type NewMessage } from "../queue/enqueue.ts";

/**
 * Claims the domain's report for the day, or takes over one whose builder stopped before
 * finishing (its lease ran out). Null when another node has it or it is done.
 */
export async function claimReport(sql: Sql, domain: string, day: string, owner: string, now: number, leaseMs: number): Promise<number | null> {
  const rs = await sql.execute({
    sql: `INSERT INTO tlsrpt_reports (domain, day, state, owner, lease_until, created_at, updated_at) VALUES (?, ?, 'claimed', ?, ?, ?, ?)
      ON CONFLICT (domain, day) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until, updated_at = excluded.updated_at
      WHERE tlsrpt_reports.state = 'claimed' AND tlsrpt_reports.lease_until <= ? RETURNING id`,
    args: [domain, day, owner, now + leaseMs, now, now, now],
  });
  const id = rs.rows[0]?.id;
  return id === undefined || id === null ? null : Number(id);
}

/** The domain published no usable record: nothing to send, and nothing to look up again that day. */
export async function markNoRecord(sql: Sql, row: number, owner: string, why: string, now: number): Promise<void> {
  await sql.execute({
    sql: "UPDATE tlsrpt_reports SET state = 'no-record', record = ?, lease_until = 0, updated_at = ? WHERE id = ? AND owner = ? AND state = 'claimed'",
    args: [why, now, row, owner],
  });
}

export interface BuiltReport {
  row: number;
  owner: string;
  reportId: string;
  json: string;
  record: string;
  https: string[];
  mail: { uri: string; message: NewMessage }[];
}

/** The reserved account the relay's own reports are queued under (messages need an account). */
export const RELAY_ACCOUNT = { id: "acct_relay", name: "_relay" };

/** Stores the report and its deliveries, queueing its mail; false when the claim was lost meanwhile. */
export async function storeBuiltReport(sql: Sql, b: BuiltReport, now: number): Promise<boolean> {
  const done = await sql.execute({
    sql: "UPDATE tlsrpt_reports SET state = 'built', report_id = ?, report = ?, record = ?, lease_until = 0, updated_at = ? WHERE id = ? AND owner = ? AND state = 'claimed' RETURNING id",
    args: [b.reportId, b.json, b.record, now, b.row, b.owner],
  });
  if (done.rows.length === 0) return false;
  for (const uri of b.https) {
    await sql.execute({ sql: "INSERT INTO tlsrpt_deliveries (report_row, uri, state, next_attempt_at, updated_at) VALUES (?, ?, 'pending', ?, ?)", args: [b.row, uri, now, now] });
  }
  if (b.mail.length > 0) {
    await sql.execute({ sql: "INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", args: [RELAY_ACCOUNT.id, RELAY_ACCOUNT.name, now] });
  }
  for (const m of b.mail) {
    await insertMessage(sql, m.message, now);
    await sql.execute({
      sql: "INSERT INTO tlsrpt_deliveries (report_row, uri, state, next_attempt_at, message_id, answer, updated_at) VALUES (?, ?, 'queued', ?, ?, ?, ?)",
      args: [b.row, m.uri, now, m.message.id, `queued as ${m.message.id}`, now],
    });
  }
  return true;
}

export interface DuePost {
  id: number;
  uri: string;
  attempts: number;
  domain: string;
  day: string;
  reportId: string;
  json: string;
}

/** Leases `https:` deliveries that are due: one statement, so two nodes never take the same one. */
export async function leaseDuePosts(sql: Sql, now: number, leaseMs: number, limit: number): Promise<DuePost[]> {
  const leased = await sql.execute({
    sql: `UPDATE tlsrpt_deliveries SET lease_until = ? WHERE id IN (SELECT id FROM tlsrpt_deliveries
      WHERE state = 'pending' AND next_attempt_at <= ? AND lease_until <= ? ORDER BY next_attempt_at LIMIT ?) RETURNING id`,
    args: [now + leaseMs, now, now, limit],
  });
  if (leased.rows.length === 0) return [];
  const ids = leased.rows.map((r) => Number(r.id));
  const rs = await sql.execute({
    sql: `SELECT d.id, d.uri, d.attempts, r.domain, r.day, r.report_id, r.report FROM tlsrpt_deliveries d JOIN tlsrpt_reports r ON r.id = d.report_row
      WHERE d.id IN (${ids.map(() => "?").join(", ")}) ORDER BY d.id`,
    args: ids,
  });
  return rs.rows.map((r) => ({ id: Number(r.id), uri: String(r.uri), attempts: Number(r.attempts), domain: String(r.domain), day: String(r.day), reportId: String(r.report_id), json: String(r.report) }));
}

export interface PostResult {
  state: "sent" | "pending" | "failed";
  status: number | null;
  answer: string;
  /** For pending: when to try again. */
  nextAttemptAt?: number;
}

export async function recordPost(sql: Sql, id: number, r: PostResult, now: number): Promise<void> {
  await sql.execute({
    sql: "UPDATE tlsrpt_deliveries SET state = ?, attempts = attempts + 1, status = ?, answer = ?, next_attempt_at = ?, lease_until = 0, updated_at = ? WHERE id = ?",
    args: [r.state, r.status, r.answer, r.nextAttemptAt ?? now, now, id],
  });
}

/** Whether any `https:` delivery is due (a read, so an idle pass takes no write lock). */
export async function anyPostDue(sql: Sql, now: number): Promise<boolean> {
  const rs = await sql.execute({ sql: "SELECT 1 FROM tlsrpt_deliveries WHERE state = 'pending' AND next_attempt_at <= ? AND lease_until <= ? LIMIT 1", args: [now, now] });
  return rs.rows.length > 0;
}

/** A report as stored for the day, when it was built. */
export async function storedReport(sql: Sql, domain: string, day: string): Promise<{ state: string; json: string | null; record: string | null } | null> {
  const rs = await sql.execute({ sql: "SELECT state, report, record FROM tlsrpt_reports WHERE domain = ? AND day = ?", args: [domain.toLowerCase(), day] });
  const r = rs.rows[0];
  return r ? { state: String(r.state), json: (r.report as string | null) ?? null, record: (r.record as string | null) ?? null } : null;
}

export interface SentRow {
  domain: string;
  day: string;
  report_id: string | null;
  uri: string;
  state: string;
  attempts: number;
  status: number | null;
  answer: string | null;
  updated_at: string;
}

/**
 * Every delivery of every report, newest day first. A `mailto:` delivery's state is its
 * message's: the recipient's state and last reply in the queue (gone once purged).
 */
export async function sentReports(sql: Sql, limit = 1000): Promise<SentRow[]> {
  const rs = await sql.execute({
    sql: `SELECT r.domain, r.day, r.report_id, d.uri, d.state, d.attempts, d.status, d.answer, d.updated_at,
        q.state AS mail_state, q.last_reply AS mail_reply, q.attempts AS mail_attempts, q.updated_at AS mail_updated
      FROM tlsrpt_deliveries d JOIN tlsrpt_reports r ON r.id = d.report_row
      LEFT JOIN recipients q ON q.message_id = d.message_id
      ORDER BY r.day DESC, r.domain, d.id LIMIT ?`,
    args: [limit],
  });
  return rs.rows.map((r) => {
    const mail = r.mail_state !== null && r.mail_state !== undefined;
    return {
      domain: String(r.domain),
      day: String(r.day),
      report_id: (r.report_id as string | null) ?? null,
      uri: String(r.uri),
      state: mail ? `mail ${String(r.mail_state)}` : String(r.state),
      attempts: mail ? Number(r.mail_attempts) : Number(r.attempts),
      status: r.status === null ? null : Number(r.status),
      answer: mail ? ((r.mail_reply as string | null) ?? (r.answer as string | null)) : ((r.answer as string | null) ?? null),
      updated_at: new Date(Number(mail ? r.mail_updated : r.updated_at)).toISOString(),
    };
  });
}
