/** @jsxImportSource hono/jsx */
/** The overview: traffic charts (drawn by dashboard.js from /dashboard/series), queue, deferrals, routes, accounts. */
import type { AccountUse, DeferralReason, WaitReason } from "../overview-data.ts";
import type { MessageHit } from "../message-data.ts";
import type { RouteListed } from "../../admin/route-list.ts";
import type { HeldOverQuota, RouteEventView } from "../shaping-data.ts";
import { BASE, time } from "./layout.tsx";
import { MessageTable } from "./messages.tsx";
import { RouteEvents, RouteTable } from "./shaping.tsx";

export interface OverviewData {
  totals: { hour: Record<string, number>; day: Record<string, number> };
  depth: { state: string; n: number }[];
  deferrals: DeferralReason[];
  waits: WaitReason[];
  routes: RouteListed[];
  routeEvents: RouteEventView[];
  accounts: AccountUse[];
  held: HeldOverQuota[];
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

const heldText = (h: HeldOverQuota | undefined) => (h ? `${h.messages} msg / ${h.recipients} rcpt` : "0");

/** Every account with mail held over its quota (an account's quota may be a route's, not in the list above). */
function HeldTable({ held }: { held: HeldOverQuota[] }) {
  return (
    <>
      <h2>Held over quota</h2>
      <table class="held">
        <thead><tr><th>account</th><th class="num">messages</th><th class="num">recipients</th></tr></thead>
        <tbody>
          {held.map((h) => (
            <tr data-held={h.account}><td>{h.account}</td><td class="num">{h.messages}</td><td class="num">{h.recipients}</td></tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

const WAIT_TEXT = { route_down: "route down", route_quota: "route at its quota", destination_pace: "destination's pace" } as const;

/** Recipients that waited on our own pacing: not deferrals (no attempt was made), shown apart. */
function Waits({ waits }: { waits: WaitReason[] }) {
  return (
    <>
      <h2>Waiting for a route (last hour, not deferrals)</h2>
      <table class="waits">
        <thead><tr><th>why</th><th class="num">recipients</th><th>last</th></tr></thead>
        <tbody>
          {waits.map((w) => (
            <tr><td>{WAIT_TEXT[w.kind]} <code>{w.on}</code></td><td class="num">{w.n}</td><td>{time(w.last_at)}</td></tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function OverviewBody({ d }: { d: OverviewData }) {
  const held = new Map(d.held.map((h) => [h.account, h]));
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
          {d.waits.length > 0 ? <Waits waits={d.waits} /> : null}
        </section>
        <section>
          <h2>Routes</h2>
          {d.routes.length === 0 ? <p class="muted">none: SMARTHOST_UPSTREAM for every domain</p> : <RouteTable rows={d.routes} />}
          <h2>Latest route events</h2>
          <RouteEvents rows={d.routeEvents} />
        </section>
        <section>
          <h2>Accounts nearest their limits</h2>
          <table>
            <thead><tr><th>account</th><th>this minute</th><th>today</th><th class="num">held over quota</th></tr></thead>
            <tbody>
              {d.accounts.length === 0 ? <tr><td colspan={4} class="muted">no account has a limit</td></tr> : null}
              {d.accounts.map((a) => (
                <tr class={a.share >= 0.9 ? "warn" : ""}>
                  <td>{a.name}</td><td>{pct(a.minute_used, a.per_minute)}</td><td>{pct(a.day_used, a.per_day)}</td><td class="num">{heldText(held.get(a.name))}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {d.held.length > 0 ? <HeldTable held={d.held} /> : null}
        </section>
      </div>
      <section>
        <h2>Latest messages</h2>
        <MessageTable hits={d.latest} />
      </section>
    </>
  );
}
