/** @jsxImportSource hono/jsx */
/** The overview: traffic charts (drawn by dashboard.js from /dashboard/series), queue, deferrals, routes, accounts. */
import type { AccountUse, DeferralReason } from "../overview-data.ts";
import type { MessageHit } from "../message-data.ts";
import type { RouteRow } from "../../admin/route-list.ts";
import { BASE, time } from "./layout.tsx";
import { MessageTable } from "./messages.tsx";

export interface OverviewData {
  totals: { hour: Record<string, number>; day: Record<string, number> };
  depth: { state: string; n: number }[];
  deferrals: DeferralReason[];
  routes: RouteRow[];
  accounts: AccountUse[];
  latest: MessageHit[];
}

export function Charts() {
  return (
    <section class="charts">
      <figure>
        <figcaption>Last hour, per minute</figcaption>
        <div class="chart" data-series={`${BASE}/series?minutes=60`}></div>
      </figure>
      <figure>
        <figcaption>Last day, per minute</figcaption>
        <div class="chart" data-series={`${BASE}/series?minutes=1440`}></div>
      </figure>
    </section>
  );
}

const pct = (used: number, limit: number | null) => (limit ? `${used} / ${limit} (${Math.round((100 * used) / limit)}%)` : `${used}`);

export function OverviewBody({ d }: { d: OverviewData }) {
  return (
    <>
      <section class="cards">
        {(["accepted", "delivered", "deferred", "bounced"] as const).map((t) => (
          <div class={`card ${t}`}>
            <span class="n" data-total={t}>{d.totals.hour[t] ?? 0}</span>
            <span>{t} · hour</span>
            <span class="muted">{d.totals.day[t] ?? 0} in 24 h</span>
          </div>
        ))}
      </section>
      <div class="grid">
        <section>
          <h2>Queue</h2>
          <table>
            <tbody>
              {d.depth.map((s) => (
                <tr>
                  <td><a href={`${BASE}/messages?state=${encodeURIComponent(s.state)}`}>{s.state}</a></td>
                  <td class="num">{s.n}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section>
          <h2>Top deferral reasons (last hour)</h2>
          <table>
            <thead><tr><th>reply</th><th class="num">recipients</th><th>last</th></tr></thead>
            <tbody>
              {d.deferrals.length === 0 ? <tr><td colspan={3} class="muted">none</td></tr> : null}
              {d.deferrals.map((r) => (
                <tr>
                  <td><code>{[r.code, r.enhanced].filter((x) => x !== null).join(" ")}</code> {r.text}</td>
                  <td class="num">{r.n}</td>
                  <td>{time(r.last_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section>
          <h2>Routes</h2>
          <table>
            <thead><tr><th>domain</th><th>#</th><th>to</th></tr></thead>
            <tbody>
              {d.routes.length === 0 ? <tr><td colspan={3} class="muted">none: SMARTHOST_UPSTREAM for every domain</td></tr> : null}
              {d.routes.map((r) => (
                <tr><td>{r.domain}</td><td>{r.position}</td><td><code>{r.url}</code></td></tr>
              ))}
            </tbody>
          </table>
        </section>
        <section>
          <h2>Accounts nearest their limits</h2>
          <table>
            <thead><tr><th>account</th><th>this minute</th><th>today</th></tr></thead>
            <tbody>
              {d.accounts.length === 0 ? <tr><td colspan={3} class="muted">no account has a limit</td></tr> : null}
              {d.accounts.map((a) => (
                <tr class={a.share >= 0.9 ? "warn" : ""}>
                  <td>{a.name}</td><td>{pct(a.minute_used, a.per_minute)}</td><td>{pct(a.day_used, a.per_day)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
      <section>
        <h2>Latest messages</h2>
        <MessageTable hits={d.latest} />
      </section>
    </>
  );
}
