/** The report for a domain and day from what is stored: shared by the daily sender and `tlsrpt report`. */
import type { Sql } from "../db/raw.ts";
import { buildReport, type TlsReport } from "./report.ts";
import { cachedStsPolicy, daySessions } from "./sessions.ts";
import type { ReportSettings } from "./settings.ts";

export async function composeReport(sql: Sql, domain: string, day: string, s: ReportSettings): Promise<TlsReport> {
  const d = domain.toLowerCase();
  const [groups, sts] = await Promise.all([daySessions(sql, d, day), cachedStsPolicy(sql, d)]);
  return buildReport({ domain: d, day, organization: s.organization, contact: s.contact, submitter: s.submitter, sendingIps: s.sendingIps, groups, sts });
}
