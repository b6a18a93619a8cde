/** `smarthost tlsrpt report|list`, and the same over the admin API: the TLS reports (RFC 8460) as made and sent. */
import type { Sql } from "../db/raw.ts";
import { Failure } from "../core/failure.ts";
import { composeReport } from "../tlsrpt/compose.ts";
import { previousDay, type TlsReport } from "../tlsrpt/report.ts";
import type { ReportSettings } from "../tlsrpt/settings.ts";
import { sentReports, storedReport, type SentRow } from "../tlsrpt/store.ts";

export interface ReportShown {
  domain: string;
  day: string;
  /** built: made and sent (the JSON as sent); no-record: the domain asked for none; pending: not made yet (the JSON it would be). */
  state: "built" | "no-record" | "pending";
  report: TlsReport;
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/i;

/** The report for DOMAIN and DATE (default: yesterday, UTC) as sent, or as it would be sent. */
export async function tlsReportFor(sql: Sql, settings: ReportSettings, domain: string, date: string | undefined, now = Date.now()): Promise<ReportShown> {
  const d = domain.toLowerCase().replace(/\.$/, "");
  if (!DOMAIN.test(d)) throw new Failure("invalid", `${domain} is not a domain name`, { field: "domain" });
  const day = date ?? previousDay(now);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) {
    throw new Failure("invalid", "--date must be a day, YYYY-MM-DD", { field: "date" });
  }
  const stored = await storedReport(sql, d, day);
  if (stored?.state === "built" && stored.json) return { domain: d, day, state: "built", report: JSON.parse(stored.json) as TlsReport };
  return { domain: d, day, state: stored?.state === "no-record" ? "no-record" : "pending", report: await composeReport(sql, d, day, settings) };
}

/** The report as text: who, when, the counts per policy and the failures. */
export function formatTlsReport(r: ReportShown): string {
  const rep = r.report;
  const state = r.state === "built" ? "sent" : r.state === "no-record" ? "not sent: the domain published no TLS-RPT record" : "not sent yet (this is what would be sent)";
  const lines = [`report ${rep["report-id"]} for ${r.domain}, ${r.day} (UTC): ${state}`, `organization ${rep["organization-name"]}, contact ${rep["contact-info"]}`];
  if (rep.policies.length === 0) lines.push("no TLS sessions with this domain's MX hosts that day");
  for (const p of rep.policies) {
    lines.push(`${p.policy["policy-type"]}: ${p.summary["total-successful-session-count"]} successful, ${p.summary["total-failure-session-count"]} failed session(s)`);
    for (const f of p["failure-details"]) lines.push(`  ${f["result-type"]}  ${f["receiving-mx-hostname"] ?? "-"} [${f["receiving-ip"] ?? "-"}]  ${f["failed-session-count"]}`);
  }
  return lines.join("\n");
}

export async function tlsReportRows(sql: Sql): Promise<SentRow[]> {
  return sentReports(sql);
}
