/**
 * Complaints (ARF reports, RFC 5965) and the complaint rate of an account: complaints per
 * delivered recipient over the last 24 hours and 7 days, in percent — the figure mailbox
 * providers hold bulk senders to (Gmail and Yahoo ask for under 0.3 %). An account with
 * `--pause-on-complaint-rate P` is paused when either rate reaches P: its new mail is
 * refused until `account resume` (src/gateway/account-policy.ts), with one `account.paused` event.
 */
import type { Sql } from "../db/raw.ts";
import { appendEvent } from "../events/append.ts";

const HOUR = 3_600_000;
export const RATE_WINDOWS = { "24h": 24 * HOUR, "7d": 7 * 24 * HOUR } as const;
export type RateWindow = keyof typeof RATE_WINDOWS;

export interface WindowRate {
  complaints: number;
  delivered: number;
  /** Percent of delivered recipients; null when nothing was delivered. */
  percent: number | null;
}

export interface PauseState {
  /** The threshold in percent; null: the account is never paused for complaints. */
  pauseRate: number | null;
  pausedAt: number | null;
  pausedReason: string | null;
}

/** One complaint per message and recipient however often it is reported; true when it is new. */
export async function recordComplaint(sql: Sql, c: { accountId: string; messageId: string; recipient: string; feedbackType: string; now: number }): Promise<boolean> {
  const rs = await sql.execute({
    sql: `INSERT INTO complaints (account_id, message_id, recipient, feedback_type, created_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (message_id, recipient) DO NOTHING RETURNING id`,
    args: [c.accountId, c.messageId, c.recipient.toLowerCase(), c.feedbackType, c.now],
  });
  return rs.rows.length > 0;
}

// Delivered recipients of the account's own messages (not the DSNs the relay made) created in the window.
const DELIVERED = `SELECT count(*) AS n FROM recipients r JOIN messages m ON m.id = r.message_id
  WHERE m.account_id = ? AND m.created_at >= ? AND m.source != 'dsn' AND r.state = 'delivered'`;
const COMPLAINED = "SELECT count(*) AS n FROM complaints WHERE account_id = ? AND created_at >= ?";

export async function complaintRate(sql: Sql, accountId: string, window: RateWindow, now: number): Promise<WindowRate> {
  const since = now - RATE_WINDOWS[window];
  const [d, c] = await Promise.all([sql.execute({ sql: DELIVERED, args: [accountId, since] }), sql.execute({ sql: COMPLAINED, args: [accountId, since] })]);
  const delivered = Number(d.rows[0]?.n ?? 0);
  const complaints = Number(c.rows[0]?.n ?? 0);
  return { complaints, delivered, percent: delivered === 0 ? null : Math.round((complaints / delivered) * 100_000) / 1000 };
}

export async function complaintRates(sql: Sql, accountId: string, now: number): Promise<Record<RateWindow, WindowRate>> {
  return { "24h": await complaintRate(sql, accountId, "24h", now), "7d": await complaintRate(sql, accountId, "7d", now) };
}

export async function pauseState(sql: Sql, accountId: string): Promise<PauseState> {
  const r = (await sql.execute({ sql: "SELECT pause_rate, paused_at, paused_reason FROM complaint_pauses WHERE account_id = ?", args: [accountId] })).rows[0];
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return { pauseRate: num(r?.pause_rate), pausedAt: num(r?.paused_at), pausedReason: (r?.paused_reason as string | null | undefined) ?? null };
}

/** `--pause-on-complaint-rate P` (percent, more than 0 and at most 100), or null to never pause. */
export async function setPauseRate(sql: Sql, accountId: string, percent: number | null): Promise<void> {
  await sql.execute({
    sql: "INSERT INTO complaint_pauses (account_id, pause_rate) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET pause_rate = excluded.pause_rate",
    args: [accountId, percent],
  });
}

/** Lifts a pause; false when the account was not paused. */
export async function resumeAccount(sql: Sql, accountId: string): Promise<boolean> {
  const rs = await sql.execute({ sql: "UPDATE complaint_pauses SET paused_at = NULL, paused_reason = NULL WHERE account_id = ? AND paused_at IS NOT NULL RETURNING account_id", args: [accountId] });
  return rs.rows.length > 0;
}

/**
 * After a new complaint, in its transaction: pauses the account when a rate reached its
 * threshold and it is not paused yet (one `account.paused` event). Returns the reason when it paused.
 */
export async function pauseIfOver(sql: Sql, a: { accountId: string; account: string }, now: number): Promise<string | null> {
  const state = await pauseState(sql, a.accountId);
  if (state.pauseRate === null || state.pausedAt !== null) return null;
  const rates = await complaintRates(sql, a.accountId, now);
  const over = (Object.keys(rates) as RateWindow[]).find((w) => rates[w].percent !== null && rates[w].percent! >= state.pauseRate!);
  if (!over) return null;
  const r = rates[over];
  const reason = `complaint rate ${r.percent}% over ${over} (${r.complaints} of ${r.delivered} delivered) reached ${state.pauseRate}%`;
  const paused = await sql.execute({
    sql: "UPDATE complaint_pauses SET paused_at = ?, paused_reason = ? WHERE account_id = ? AND paused_at IS NULL RETURNING account_id",
    args: [now, reason, a.accountId],
  });
  if (paused.rows.length === 0) return null;
  await appendEvent(sql, {
    accountId: a.accountId,
    type: "account.paused",
    data: { account: a.account, reason: "complaint_rate", detail: reason, window: over, complaint_rate: r.percent, complaints: r.complaints, delivered: r.delivered, threshold: state.pauseRate },
    now,
  });
  return reason;
}

/** Complaints ever recorded, by account name (`smarthost_complaints_total`). */
export async function complaintTotals(sql: Sql): Promise<{ account: string; n: number }[]> {
  const rs = await sql.execute("SELECT a.name AS account, count(*) AS n FROM complaints c JOIN accounts a ON a.id = c.account_id GROUP BY a.name");
  return rs.rows.map((r) => ({ account: String(r.account), n: Number(r.n) }));
}
