/** @jsxImportSource hono/jsx */
/** Route health with its quota, the latest route events, and a delivery's TLS outcome. */
import type { TlsRecord } from "../../core/tls-record.ts";
import type { RouteEventView } from "../shaping-data.ts";
import type { RouteListed } from "../../admin/route-list.ts";
import { time } from "./layout.tsx";

const quotaOf = (r: RouteListed) =>
  [r.per_second !== null ? `${r.per_second}/s` : "", r.per_minute !== null ? `${r.per_minute}/min` : "", r.per_day !== null ? `${r.per_day}/day` : ""].filter(Boolean).join(" · ") || "-";

/** Direct MX has no breaker: no health shown. A down route says until when; a reopened one since when. */
export function Health({ r }: { r: RouteListed }) {
  if (r.health === null) return <span class="muted">-</span>;
  if (r.health === "reopened") {
    return (
      <>
        <span class="state reopened" data-health="reopened">reopened</span>
        <span class="muted"> since {time(Date.parse(r.down_until ?? ""))}: the next message tries it</span>
      </>
    );
  }
  return (
    <>
      <span class={`state ${r.health}`} data-health={r.health}>{r.health}</span>
      {r.down_until ? <span class="muted"> until {time(Date.parse(r.down_until))}</span> : null}
    </>
  );
}

export function RouteTable({ rows }: { rows: RouteListed[] }) {
  return (
    <table class="routes">
      <thead><tr><th>domain</th><th>#</th><th>to</th><th>quota</th><th>health</th></tr></thead>
      <tbody>
        {rows.map((r) => (
          <tr class={r.health === "down" ? "warn" : ""}>
            <td>{r.domain}</td><td>{r.position}</td><td><code>{r.url}</code></td><td>{quotaOf(r)}</td><td><Health r={r} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function RouteEvents({ rows }: { rows: RouteEventView[] }) {
  if (rows.length === 0) return <p class="muted">No route events.</p>;
  return (
    <table class="route-events">
      <thead><tr><th>at</th><th>event</th><th>route</th><th>why / until</th></tr></thead>
      <tbody>
        {rows.map((e) => (
          <tr>
            <td>{time(e.at)}</td>
            <td><span class={`state ${e.type === "route.degraded" ? "down" : "up"}`}>{e.type}</span></td>
            <td><code>{e.route}</code></td>
            <td>{e.reply ? <code>{e.reply}</code> : null}{e.down_until ? <span class="muted"> until {time(Date.parse(e.down_until))}</span> : null}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * none / opportunistic / verified, the protocol, and the RFC 8460 result type when TLS failed.
 * Plaintext is shown as a failure (red) only where TLS was required. A plaintext delivery
 * that went through with no MTA-STS or DANE policy was to a host that did not require it
 * (a route with tls=required, or a policy in force, would have refused to go on): the
 * result type recorded for it (a relay route that checks certificates records
 * starttls-not-supported) is then a note, not an alarm.
 */
export function Tls({ t, delivered = false }: { t: TlsRecord | null; delivered?: boolean }) {
  if (!t) return null;
  const notRequired = delivered && t.outcome === "none" && t.policy === null;
  return (
    <span class={`tls ${t.outcome}${t.result_type && !notRequired ? " failed" : ""}`} data-tls={t.outcome}>
      TLS {t.outcome}
      {t.protocol ? ` ${t.protocol}` : ""}
      {t.policy ? ` (MTA-STS ${t.policy})` : ""}
      {t.result_type ? <span class={notRequired ? "tls-note" : "tls-failure"}> {t.result_type}</span> : null}
    </span>
  );
}
