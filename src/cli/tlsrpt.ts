/** `tlsrpt report` and `tlsrpt list`: the daily TLS reports (RFC 8460) as made and sent. */
import { formatTlsReport, tlsReportFor, tlsReportRows } from "../admin/tlsrpt.ts";
import { reportSettings } from "../tlsrpt/settings.ts";
import { configuredHostname } from "../runtime/host-name.ts";
import { JSON_OPTION, printRows, withDatabase } from "./io.ts";
import type { Command } from "./table.ts";

export const tlsrptCommands: Command[] = [
  {
    name: "tlsrpt report",
    args: "DOMAIN",
    summary: "the TLS report (RFC 8460) for DOMAIN and a day: as sent, or as it would be sent",
    options: {
      date: { type: "string", value: "YYYY-MM-DD", help: "the UTC day (default: yesterday)" },
      json: { type: "boolean", help: "the report's JSON exactly as sent (before gzip)" },
    },
    async run({ config, args, values, out }) {
      const settings = reportSettings(config, await configuredHostname(config));
      const date = typeof values.date === "string" ? values.date : undefined;
      const shown = await withDatabase(config, (d) => tlsReportFor(d.sql, settings, args[0]!, date));
      out(values.json ? JSON.stringify(shown.report, null, 2) : formatTlsReport(shown));
      return 0;
    },
  },
  {
    name: "tlsrpt list",
    summary: "TLS reports sent: domain, day, where to, and the answer",
    options: JSON_OPTION,
    async run(ctx) {
      const rows = await withDatabase(ctx.config, (d) => tlsReportRows(d.sql));
      printRows(ctx, rows, "no TLS reports sent");
      return 0;
    },
  },
];
