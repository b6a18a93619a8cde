/** @jsxImportSource hono/jsx */
/** The domain check (the report `smarthost domain check` prints) as a table: each record, ✓ or ✗, what DNS shows, what to publish. */
import type { DomainReport } from "../../domain-check/check.ts";

export function DomainReportView({ report }: { report: DomainReport }) {
  return (
    <section class="domain-report" aria-label={`What DNS shows for ${report.domain}`}>
      <h2>
        What DNS shows now for {report.domain}: {report.ok ? "everything published" : "records still to publish"}
      </h2>
      <div class="scroll">
        <table>
          <thead>
            <tr><th>check</th><th>state</th><th>detail</th><th>found / to publish</th></tr>
          </thead>
          <tbody>
            {report.checks.map((ch) => (
              <tr class={ch.ok ? "ok" : "warn"} data-check={ch.check}>
                <td>{ch.check.toUpperCase()}{ch.selector ? ` ${ch.selector}` : ""}</td>
                <td>{ch.ok ? "✓ published" : "✗ not yet"}</td>
                <td>{ch.detail}</td>
                <td>
                  {ch.found ? <div><span class="muted">found </span><code>{ch.found}</code></div> : null}
                  {!ch.ok && ch.publish ? <div><span class="muted">publish </span><code class="record">{ch.publish}</code></div> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
