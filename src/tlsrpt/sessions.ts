/**
 * What a day's delivery attempts recorded, read back for TLS reports: the stored events
 * (every node writes them to the one database, so the counts are exact across nodes).
 *
 * An outcome event is one recipient; recipients sent in one session were recorded in one
 * transaction with one time, one host and one TLS record, so a session is counted once
 * per (message, time) — COUNT(DISTINCT …). Only direct MX delivery is a session with the
 * recipient domain's hosts: its events say `(via mx NAME [ADDRESS])` (delivery/worker.ts),
 * or `(via mx DOMAIN)` when a policy let no host be tried; relay routes are left out.
 */
import type { Sql } from "../db/raw.ts";
import { decodeTlsRecord } from "../core/tls-record.ts";
import { dayBounds, type SessionGroup, type StsPolicyText } from "./report.ts";

const DOMAIN_OF = "lower(substr(recipient, instr(recipient, '@') + 1))";
// The events_type_time index finds a day's outcomes without reading the others.
const OF_THE_DAY = `type IN ('delivered', 'deferred', 'bounced') AND created_at >= ? AND created_at < ?
  AND tls IS NOT NULL AND recipient IS NOT NULL AND instr(detail, ' (via mx ') > 0`;

/** Domains attempted that day with no report row yet (or one whose builder's lease ran out). */
export async function domainsToReport(sql: Sql, day: string, now: number): Promise<string[]> {
  const { start, end } = dayBounds(day);
  const rs = await sql.execute({
    sql: `SELECT DISTINCT ${DOMAIN_OF} AS domain FROM events WHERE ${OF_THE_DAY}
      AND ${DOMAIN_OF} NOT IN (SELECT domain FROM tlsrpt_reports WHERE day = ? AND (state != 'claimed' OR lease_until > ?))
      ORDER BY 1`,
    args: [start, end, day, now],
  });
  return rs.rows.map((r) => String(r.domain)).filter((d) => d !== "");
}

/** "NAME [ADDRESS])" → the host and its address; "DOMAIN)" (no host tried) → neither. */
function parseVia(via: string): { mxHost: string | null; receivingIp: string | null } {
  const m = /^(\S+) \[([^\]]*)\]\)$/.exec(via);
  return m ? { mxHost: m[1]!.toLowerCase(), receivingIp: m[2]! } : { mxHost: null, receivingIp: null };
}

/** The domain's sessions of the day, grouped by host, address and TLS record. */
export async function daySessions(sql: Sql, domain: string, day: string): Promise<SessionGroup[]> {
  const { start, end } = dayBounds(day);
  const rs = await sql.execute({
    sql: `SELECT substr(detail, instr(detail, ' (via mx ') + 9) AS via, tls, COUNT(DISTINCT message_id || ' ' || created_at) AS sessions
      FROM events WHERE ${OF_THE_DAY} AND ${DOMAIN_OF} = ? GROUP BY 1, 2 ORDER BY 1, 2`,
    args: [start, end, domain.toLowerCase()],
  });
  const groups: SessionGroup[] = [];
  for (const r of rs.rows) {
    const tls = decodeTlsRecord(r.tls);
    if (!tls) continue;
    groups.push({ ...parseVia(String(r.via)), tls, sessions: Number(r.sessions) });
  }
  return groups;
}

/** The domain's MTA-STS policy as cached by delivery (delivery/mta-sts.ts), for the report's policy-string. */
export async function cachedStsPolicy(sql: Sql, domain: string): Promise<StsPolicyText | null> {
  const rs = await sql.execute({ sql: "SELECT mode, mx, fetched_at, expires_at FROM mta_sts_policies WHERE domain = ?", args: [domain.toLowerCase()] });
  const r = rs.rows[0];
  if (!r) return null;
  let mx: string[] = [];
  try {
    const parsed: unknown = JSON.parse(String(r.mx));
    if (Array.isArray(parsed)) mx = parsed.map(String);
  } catch {
    // An unreadable pattern list reports the policy without its hosts.
  }
  const mode = String(r.mode);
  if (mode !== "enforce" && mode !== "testing" && mode !== "none") return null;
  return { mode, mx, maxAgeSeconds: Math.max(0, Math.round((Number(r.expires_at) - Number(r.fetched_at)) / 1000)) };
}
