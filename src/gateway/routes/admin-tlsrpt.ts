/** /v1/admin/tlsrpt: the TLS reports (RFC 8460), the CLI's `tlsrpt report` and `tlsrpt list` over HTTP. */
import { Hono } from "hono";
import * as v from "valibot";
import { tlsReportFor, tlsReportRows } from "../../admin/tlsrpt.ts";
import type { Sql } from "../../db/raw.ts";
import type { ReportSettings } from "../../tlsrpt/settings.ts";
import { adminDoc } from "./admin-doc.ts";
import { query } from "./admin-http.ts";
import { fieldIssue } from "../schemas.ts";

const SentRow = v.object({
  domain: v.string(),
  day: v.string(),
  report_id: v.nullable(v.string()),
  uri: v.string(),
  state: v.string(),
  attempts: v.number(),
  status: v.nullable(v.number()),
  answer: v.nullable(v.string()),
  updated_at: v.string(),
});
const ReportShown = v.object({
  domain: v.string(),
  day: v.string(),
  state: v.picklist(["built", "no-record", "pending"]),
  /** The RFC 8460 §4 JSON, as sent (or as it would be sent). */
  report: v.record(v.string(), v.unknown()),
});
const DayQuery = v.strictObject({ date: v.optional(v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/, "date must be YYYY-MM-DD"))) }, fieldIssue);

export function tlsrptAdminRoutes(sql: Sql, settings: ReportSettings): Hono {
  const app = new Hono();
  app.get("/", adminDoc({ tag: "tlsrpt", summary: "TLS reports sent: domain, day, where to, and the answer", ok: v.array(SentRow) }), async (c) => c.json(await tlsReportRows(sql)));
  app.get("/:domain", adminDoc({ tag: "tlsrpt", summary: "The TLS report for a domain and a UTC day (default yesterday): as sent, or as it would be sent", params: { domain: "example.org" }, query: [{ name: "date", description: "the UTC day, YYYY-MM-DD (default yesterday)", example: "2026-03-01" }], ok: ReportShown, errors: [400] }), async (c) =>
    c.json(await tlsReportFor(sql, settings, c.req.param("domain"), query(c, DayQuery).date)),
  );
  return app;
}
