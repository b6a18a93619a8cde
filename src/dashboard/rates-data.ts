/**
 * Delivery and bounce rates over the mail accepted since a time: by destination domain
 * (the recipient's), and the bounces by type — the RFC 3463 subject of their enhanced status
 * code (x.1 addressing, x.2 mailbox, … x.7 policy), the queue lifetime (x.4.7) apart.
 * Recipients an operator deleted or a sender canceled were never meant to go: not counted.
 */
import type { Sql } from "../db/raw.ts";

export interface DomainRate {
  domain: string;
  recipients: number;
  delivered: number;
  bounced: number;
  /** Still queued, deferred or held. */
  pending: number;
}

export interface BounceType {
  type: string;
  label: string;
  recipients: number;
}

export interface Rates {
  total: DomainRate;
  domains: DomainRate[];
  bounces: BounceType[];
}

const COUNTED = "r.state NOT IN ('deleted', 'canceled')";

// RFC 3463 §3.2–§3.9: the subject sub-codes.
const SUBJECTS: Record<string, string> = {
  "0": "other or undefined",
  "1": "address (no such user or domain)",
  "2": "mailbox (full, disabled)",
  "3": "mail system",
  "4": "network or routing",
  "5": "protocol",
  "6": "content or media",
  "7": "policy or security (blocked, spam, authentication)",
};

/** A bounce's type from its enhanced status code (or its reply code when it had none). */
export function bounceType(enhanced: string | null, code: number | null): { type: string; label: string } {
  const m = /^([45])\.(\d{1,3})\.(\d{1,3})$/.exec(enhanced ?? "");
  if (!m) return { type: code ? `${code}` : "none", label: code ? "no enhanced status code" : "no reply" };
  if (m[2] === "4" && m[3] === "7") return { type: `${m[1]}.4.7`, label: "expired in the queue" };
  return { type: `${m[1]}.${m[2]}.x`, label: SUBJECTS[m[2]!] ?? "unknown subject" };
}

export async function deliveryRates(sql: Sql, since: number, limit = 10): Promise<Rates> {
  const [byDomain, byType] = await Promise.all([
    sql.execute({
      sql: `SELECT r.domain, count(*) AS n, sum(r.state = 'delivered') AS delivered, sum(r.state = 'bounced') AS bounced
        FROM recipients r JOIN messages m ON m.id = r.message_id WHERE m.created_at >= ? AND ${COUNTED}
        GROUP BY r.domain ORDER BY n DESC, r.domain`,
      args: [since],
    }),
    sql.execute({
      sql: `SELECT r.last_enhanced AS enhanced, r.last_code AS code, count(*) AS n
        FROM recipients r JOIN messages m ON m.id = r.message_id WHERE m.created_at >= ? AND r.state = 'bounced'
        GROUP BY r.last_enhanced, r.last_code`,
      args: [since],
    }),
  ]);
  const domains = byDomain.rows.map((r) => {
    const [n, delivered, bounced] = [Number(r.n), Number(r.delivered), Number(r.bounced)];
    return { domain: String(r.domain), recipients: n, delivered, bounced, pending: n - delivered - bounced };
  });
  const total = domains.reduce((t, d) => ({ ...t, recipients: t.recipients + d.recipients, delivered: t.delivered + d.delivered, bounced: t.bounced + d.bounced, pending: t.pending + d.pending }), { domain: "all", recipients: 0, delivered: 0, bounced: 0, pending: 0 });
  const types = new Map<string, BounceType>();
  for (const r of byType.rows) {
    const t = bounceType((r.enhanced as string | null) ?? null, r.code === null ? null : Number(r.code));
    const seen = types.get(t.type);
    if (seen) seen.recipients += Number(r.n);
    else types.set(t.type, { ...t, recipients: Number(r.n) });
  }
  return { total, domains: domains.slice(0, limit), bounces: [...types.values()].sort((a, b) => b.recipients - a.recipients || a.type.localeCompare(b.type)) };
}

/** "75.0 %": one decimal, "-" for nothing to divide. */
export const percent = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : "-");
