/**
 * What the relay does with mail that comes back (the inbound listener): a DSN to a
 * return-path token becomes a late bounce of that recipient — the trace row, the
 * `message.bounced` event with `"late": true`, and, by the same rule as a bounce during
 * delivery (suppression/policy.ts), a suppression; an ARF report about a message the relay
 * sent becomes a complaint — suppression reason `complaint`, `message.complained`, and the
 * account's complaint rate (complaints/rate.ts). Everything else is dropped and counted.
 * Nothing received is ever forwarded or queued.
 */
import type { Sql } from "../db/raw.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import { appendEvent } from "../events/append.ts";
import { parseReplyLine } from "../events/reply.ts";
import type { UpstreamReply } from "../events/types.ts";
import { contextOf, recordMessageEvent } from "../queue/message-events.ts";
import { addSuppression } from "../suppression/store.ts";
import { pauseIfOver, recordComplaint } from "../complaints/rate.ts";
import { readReturnLocalPart, type Mac, type ReturnToken } from "../return-path/token.ts";
import type { DsnRecipient, InboundReport, OriginalHeaders } from "./reports.ts";

/** Who an inbound message was addressed to: a return-path token, or the complaint address. */
export type InboundTarget = { kind: "token"; token: ReturnToken } | { kind: "complaint" };

/** What became of one message, as counted (`smarthost_inbound_messages_total{outcome}`) and logged. */
export type InboundOutcome =
  | "late_bounce"
  | "duplicate"
  | "dsn_not_failed"
  | "complaint"
  | "complaint_not_abuse"
  | "unknown_message"
  | "unknown_recipient"
  | "not_a_report";

// RFC 5965 §7.3: abuse, fraud, virus and other are complaints; not-spam is the opposite, and
// auth-failure (RFC 6591) reports authentication results, not a recipient's wish.
const COMPLAINT_TYPES = new Set(["abuse", "fraud", "virus", "other"]);
// The Message-ID look-up reads the first bytes of messages this recent.
const MESSAGE_ID_WINDOW_MS = 30 * 86_400_000;

export interface ActDeps {
  sql: Sql;
  writer: GroupCommit;
  mac: Mac;
  now: () => number;
}

interface Sent {
  messageId: string;
  address: string;
}

async function recipientRow(sql: Sql, t: ReturnToken): Promise<Sent | null> {
  const rs = await sql.execute({ sql: "SELECT message_id, address FROM recipients WHERE id = ? AND message_id = ?", args: [t.recipientId, t.messageId] });
  const r = rs.rows[0];
  return r ? { messageId: String(r.message_id), address: String(r.address) } : null;
}

/** The reply a DSN recipient block stands for: Diagnostic-Code when it is an SMTP reply, else the Status alone. */
export function dsnReply(r: DsnRecipient): UpstreamReply {
  const diag = r.diagnostic ? parseReplyLine(r.diagnostic) : null;
  const fromDiag = diag && r.diagnostic && /^\d{3}\b/.test(r.diagnostic.trim()) ? diag : null;
  const enhanced = r.status ?? fromDiag?.enhanced ?? null;
  const code = fromDiag?.code ?? (enhanced?.startsWith("5") ? 550 : enhanced?.startsWith("4") ? 450 : 550);
  return { code, enhanced, text: fromDiag?.text ?? r.diagnostic ?? `Action: ${r.action}` };
}

async function lateBounce(deps: ActDeps, token: ReturnToken | null, recipients: DsnRecipient[]): Promise<InboundOutcome> {
  if (!token) return "unknown_message";
  const sent = await recipientRow(deps.sql, token);
  if (!sent) return "unknown_message";
  // The token names the recipient whatever the report calls it (a forward may rename it).
  const failed = recipients.find((r) => r.action === "failed" && (r.recipient === sent.address.toLowerCase() || r.originalRecipient === sent.address.toLowerCase())) ?? recipients.find((r) => r.action === "failed");
  if (!failed) return "dsn_not_failed";
  const reply = dsnReply(failed);
  const now = deps.now();
  return deps.writer.write(async (sql) => {
    const seen = await sql.execute({ sql: "SELECT 1 FROM events WHERE message_id = ? AND recipient = ? AND type = 'bounced' AND detail LIKE 'late bounce%' LIMIT 1", args: [sent.messageId, sent.address] });
    if (seen.rows.length > 0) return "duplicate";
    await recordMessageEvent(sql, {
      messageId: sent.messageId,
      recipient: sent.address,
      trace: "bounced",
      detail: `late bounce (DSN${failed.remoteMta ? ` from ${failed.remoteMta}` : ""}): ${reply.code} ${reply.enhanced ?? ""} ${reply.text}`.replace(/\s+/g, " "),
      now,
      reply,
      via: failed.remoteMta ?? undefined,
      late: true,
    });
    return "late_bounce";
  });
}

/** The message an ARF report is about: by token (envelope or returned Return-Path), our queue id, or Message-ID. */
async function reportedMessage(deps: ActDeps, token: ReturnToken | null, original: OriginalHeaders): Promise<{ messageId: string; address: string | null } | null> {
  const byToken = token ?? (original.returnPath ? await readReturnLocalPart(deps.mac, original.returnPath.slice(0, original.returnPath.lastIndexOf("@"))) : null);
  if (byToken) {
    const sent = await recipientRow(deps.sql, byToken);
    if (sent) return sent;
  }
  for (const id of original.queueIds) {
    const rs = await deps.sql.execute({ sql: "SELECT id FROM messages WHERE id = ?", args: [id] });
    if (rs.rows[0]) return { messageId: id, address: null };
  }
  if (original.messageId) {
    const rs = await deps.sql.execute({
      sql: "SELECT id FROM messages WHERE created_at >= ? AND source != 'dsn' AND instr(CAST(substr(raw, 1, 16384) AS TEXT), ?) > 0 ORDER BY created_at DESC LIMIT 1",
      args: [deps.now() - MESSAGE_ID_WINDOW_MS, `<${original.messageId}>`],
    });
    if (rs.rows[0]) return { messageId: String(rs.rows[0].id), address: null };
  }
  return null;
}

/**
 * Which of the message's recipients complained: the one Original-Rcpt-To names, else the one
 * recipient the returned To: names, else the message's only recipient. A To: that names
 * several of them says nothing about which one complained.
 */
async function complainingRecipient(sql: Sql, messageId: string, rcptTo: string[], to: string[]): Promise<string | null> {
  const rs = await sql.execute({ sql: "SELECT address FROM recipients WHERE message_id = ?", args: [messageId] });
  const all = rs.rows.map((r) => String(r.address));
  const named = (list: string[]) => all.filter((a) => list.includes(a.toLowerCase()));
  const byRcpt = named(rcptTo);
  if (byRcpt.length > 0) return byRcpt[0]!;
  const byTo = named(to);
  if (byTo.length === 1) return byTo[0]!;
  return all.length === 1 ? all[0]! : null;
}

async function complaint(deps: ActDeps, token: ReturnToken | null, report: Extract<InboundReport, { kind: "arf" }>): Promise<InboundOutcome> {
  if (!COMPLAINT_TYPES.has(report.feedbackType)) return "complaint_not_abuse";
  const found = await reportedMessage(deps, token, report.original);
  if (!found) return "unknown_message";
  const address = found.address ?? (await complainingRecipient(deps.sql, found.messageId, report.originalRcptTo, report.original.to));
  if (!address) return "unknown_recipient";
  const ctx = await contextOf(deps.sql, found.messageId);
  if (!ctx) return "unknown_message";
  const account = ctx.account ?? ctx.accountId;
  const now = deps.now();
  return deps.writer.write(async (sql) => {
    const fresh = await recordComplaint(sql, { accountId: ctx.accountId, messageId: found.messageId, recipient: address, feedbackType: report.feedbackType, now });
    if (!fresh) return "duplicate";
    await sql.execute({
      sql: "INSERT INTO events (message_id, recipient, type, detail, created_at) VALUES (?, ?, 'complained', ?, ?)",
      args: [found.messageId, address, `complaint (ARF, Feedback-Type: ${report.feedbackType}${report.userAgent ? `, ${report.userAgent}` : ""})`, now],
    });
    await addSuppression(sql, ctx.accountId, account, address.toLowerCase(), "complaint", now);
    await appendEvent(sql, {
      accountId: ctx.accountId,
      type: "message.complained",
      messageId: found.messageId,
      data: { message_id: found.messageId, account, from: ctx.from, recipient: address, subject: ctx.subject ?? undefined, feedback_type: report.feedbackType, user_agent: report.userAgent ?? undefined },
      now,
    });
    await pauseIfOver(sql, { accountId: ctx.accountId, account }, now);
    return "complaint";
  });
}

/** Acts on one received message; resolves with what became of it (storage errors are thrown: the sender retries). */
export async function actOnReport(deps: ActDeps, targets: readonly InboundTarget[], report: InboundReport): Promise<InboundOutcome> {
  const token = targets.find((t): t is Extract<InboundTarget, { kind: "token" }> => t.kind === "token")?.token ?? null;
  if (report.kind === "dsn") return lateBounce(deps, token, report.recipients);
  if (report.kind === "arf") return complaint(deps, token, report);
  return "not_a_report";
}
