/** @jsxImportSource hono/jsx */
/** Lists of what the relay holds: suppressions, webhooks and their deliveries, accounts and keys, routes and DKIM keys. */
import type { AccountRow } from "../../admin/account-manage.ts";
import type { DkimKeyView } from "../../admin/dkim.ts";
import type { KeyRow } from "../../admin/keys.ts";
import type { RouteListed } from "../../admin/route-list.ts";
import { Action, BASE, time } from "./layout.tsx";
import { RouteTable } from "./shaping.tsx";

export interface SuppressionView {
  accountId: string;
  account: string;
  address: string;
  reason: string;
  messageId: string | null;
  createdAt: number;
  expiresAt: number | null;
}

export function Suppressions({ rows, csrf }: { rows: SuppressionView[]; csrf: string }) {
  if (rows.length === 0) return <p class="muted">No suppressed addresses.</p>;
  return (
    <table>
      <thead><tr><th>account</th><th>address</th><th>reason</th><th>message</th><th>since</th><th>until</th><th></th></tr></thead>
      <tbody>
        {rows.map((s) => (
          <tr>
            <td>{s.account}</td><td>{s.address}</td><td>{s.reason}</td>
            <td>{s.messageId ? <a href={`${BASE}/messages/${encodeURIComponent(s.messageId)}`}>{s.messageId}</a> : ""}</td>
            <td>{time(s.createdAt)}</td><td>{s.expiresAt ? time(s.expiresAt) : "no expiry"}</td>
            <td><Action action={`${BASE}/suppressions/remove`} csrf={csrf} label="remove" fields={{ account_id: s.accountId, address: s.address }} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface EndpointView {
  id: string;
  account: string;
  url: string;
  events: string[] | null;
  enabled: boolean;
  disabledReason: string | null;
}

export function Endpoints({ rows }: { rows: EndpointView[] }) {
  if (rows.length === 0) return <p class="muted">No webhooks.</p>;
  return (
    <table>
      <thead><tr><th>id</th><th>account</th><th>url</th><th>events</th><th>state</th></tr></thead>
      <tbody>
        {rows.map((e) => (
          <tr>
            <td><a href={`${BASE}/webhooks/${encodeURIComponent(e.id)}`}>{e.id}</a></td>
            <td>{e.account}</td><td><code>{e.url}</code></td><td>{e.events?.join(", ") ?? "all"}</td>
            <td>{e.enabled ? "enabled" : `disabled (${e.disabledReason ?? ""})`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface DeliveryView {
  id: number;
  event_id: string;
  type: string;
  state: string;
  attempts: number;
  next_attempt_at: string | null;
  last_status: number | null;
  created_at: string;
  attempt_log: { at: string; status: number | null; latency_ms: number; response: string | null }[];
}

export function Deliveries({ endpoint, rows, csrf }: { endpoint: string; rows: DeliveryView[]; csrf: string }) {
  if (rows.length === 0) return <p class="muted">No deliveries yet.</p>;
  return (
    <table>
      <thead><tr><th>id</th><th>event</th><th>state</th><th class="num">attempts</th><th>last status</th><th>attempts</th><th></th></tr></thead>
      <tbody>
        {rows.map((d) => (
          <tr>
            <td>{d.id}</td><td>{d.type} <span class="muted">{d.event_id}</span></td>
            <td><span class={`state ${d.state}`}>{d.state}</span>{d.next_attempt_at ? <span class="muted"> next {d.next_attempt_at}</span> : null}</td>
            <td class="num">{d.attempts}</td><td>{d.last_status ?? ""}</td>
            <td>{d.attempt_log.map((a) => <div class="muted">{a.at} {a.status ?? "no answer"} {a.latency_ms} ms {a.response ?? ""}</div>)}</td>
            <td><Action action={`${BASE}/webhooks/deliveries/${d.id}/replay`} csrf={csrf} label="replay" fields={{ endpoint }} /></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Accounts({ rows }: { rows: AccountRow[] }) {
  return (
    <table>
      <thead><tr><th>account</th><th>per minute</th><th>per day</th><th>recipients per day</th><th>created</th></tr></thead>
      <tbody>
        {rows.map((a) => (
          <tr><td>{a.name}</td><td>{a.per_minute ?? "-"}</td><td>{a.per_day ?? "-"}</td><td>{a.recipients_per_day ?? "-"}</td><td>{a.created_at}</td></tr>
        ))}
      </tbody>
    </table>
  );
}

export function Keys({ rows, csrf }: { rows: KeyRow[]; csrf: string }) {
  if (rows.length === 0) return <p class="muted">No API keys.</p>;
  return (
    <table class="keys">
      <thead><tr><th>key id</th><th>account</th><th>created</th><th>last used</th><th>revoked</th><th></th></tr></thead>
      <tbody>
        {rows.map((k) => (
          <tr data-key={k.id}>
            <td><code>{k.id}</code></td><td>{k.account}</td><td>{k.created_at}</td><td>{k.last_used_at ?? "never"}</td><td>{k.revoked_at ?? ""}</td>
            <td>{k.revoked_at ? null : <Action action={`${BASE}/keys/${encodeURIComponent(k.id)}/revoke`} csrf={csrf} label="revoke" cls="danger" />}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Routes({ rows }: { rows: RouteListed[] }) {
  if (rows.length === 0) return <p class="muted">No routes: every domain goes to SMARTHOST_UPSTREAM.</p>;
  return <RouteTable rows={rows} />;
}

export function DkimKeys({ rows }: { rows: DkimKeyView[] }) {
  if (rows.length === 0) return <p class="muted">No DKIM keys.</p>;
  return (
    <table>
      <thead><tr><th>domain</th><th>selector</th><th>algorithm</th><th>state</th><th>DNS record to publish</th></tr></thead>
      <tbody>
        {rows.map((k) => (
          <tr><td>{k.domain}</td><td>{k.selector}</td><td>{k.algorithm}</td><td>{k.state}</td><td><code class="record">{k.record}</code></td></tr>
        ))}
      </tbody>
    </table>
  );
}
