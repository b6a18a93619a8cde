/** @jsxImportSource hono/jsx */
/** Message search, the result table, and one message's trace with its actions. */
import type { Cursor, MessageHit, Trace } from "../message-data.ts";
import { RECIPIENT_STATES, cursorText } from "../message-data.ts";
import { Action, BASE, time } from "./layout.tsx";
import { Tls } from "./shaping.tsx";

export function MessageTable({ hits }: { hits: MessageHit[] }) {
  if (hits.length === 0) return <p class="muted">No messages.</p>;
  return (
    <table class="messages">
      <thead><tr><th>accepted</th><th>id</th><th>account</th><th>from</th><th>subject</th><th>recipients</th></tr></thead>
      <tbody>
        {hits.map((m) => (
          <tr>
            <td>{time(m.created_at)}</td>
            <td><a href={`${BASE}/messages/${encodeURIComponent(m.id)}`}>{m.id}</a></td>
            <td>{m.account ?? "-"}</td>
            <td>{m.mail_from || "<>"}</td>
            <td class="subject">{m.subject}</td>
            <td>
              {m.recipients.map((r) => (
                <div><span class={`state ${r.state}`}>{r.state}</span> {r.address}</div>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export interface SearchForm {
  recipient?: string;
  sender?: string;
  id?: string;
  subject?: string;
  state?: string;
  since?: string;
  until?: string;
}

export function SearchBox({ f }: { f: SearchForm }) {
  return (
    <form method="get" action={`${BASE}/messages`} class="search">
      <input name="recipient" placeholder="recipient" value={f.recipient ?? ""} />
      <input name="sender" placeholder="sender" value={f.sender ?? ""} />
      <input name="id" placeholder="message id" value={f.id ?? ""} />
      <input name="subject" placeholder="subject" value={f.subject ?? ""} />
      <select name="state">
        <option value="">any state</option>
        {RECIPIENT_STATES.map((s) => (
          <option value={s} selected={f.state === s}>{s}</option>
        ))}
      </select>
      <label>since (UTC) <input type="datetime-local" name="since" value={f.since ?? ""} /></label>
      <label>until (UTC) <input type="datetime-local" name="until" value={f.until ?? ""} /></label>
      <button type="submit">Search</button>
    </form>
  );
}

/** Links to the newer and older pages of a search, keeping its filters (keyset cursors, message-data.ts). */
export function Pager({ f, perPage, newer, older }: { f: SearchForm; perPage: number; newer: Cursor | null; older: Cursor | null }) {
  const link = (cursor: Record<string, string>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
    q.set("per_page", String(perPage));
    for (const [k, v] of Object.entries(cursor)) q.set(k, v);
    return `${BASE}/messages?${q}`;
  };
  if (!newer && !older) return null;
  return (
    <nav class="pager">
      {newer ? <a href={link({})} rel="first">newest</a> : null}
      {newer ? <a href={link({ after: cursorText(newer) })} rel="prev">← newer</a> : null}
      {older ? <a href={link({ before: cursorText(older) })} rel="next">older →</a> : null}
    </nav>
  );
}

/** An outcome's detail repeats the reply before "(via …)": with the reply shown, only where it was tried. */
const viaOf = (detail: string) => /\((via [^()]*)\)\s*$/.exec(detail)?.[1] ?? detail;

const ACTIONS = [
  { action: "retry", when: ["queued", "deferred"] },
  { action: "hold", when: ["queued", "deferred"] },
  { action: "release", when: ["held"] },
  { action: "delete", when: ["queued", "deferred", "held"] },
] as const;

export function TraceBody({ t, csrf }: { t: Trace; csrf: string }) {
  const states = new Set(t.recipients.map((r) => r.state));
  const m = t.message;
  return (
    <>
      <dl class="envelope">
        <dt>id</dt><dd>{m.id}</dd>
        <dt>account</dt><dd>{m.account ?? "-"}</dd>
        <dt>from</dt><dd>{m.mail_from || "<>"}</dd>
        <dt>subject</dt><dd class="subject">{m.subject}</dd>
        <dt>source</dt><dd>{m.source}</dd>
        <dt>size</dt><dd>{m.size} octets</dd>
        <dt>accepted</dt><dd>{time(m.created_at)}</dd>
      </dl>
      <div class="actions">
        {ACTIONS.filter((a) => a.when.some((s) => states.has(s))).map((a) => (
          <Action action={`${BASE}/messages/${encodeURIComponent(m.id)}/${a.action}`} csrf={csrf} label={a.action} confirm={a.action === "delete"} cls={a.action === "delete" ? "danger" : ""} />
        ))}
      </div>
      <h2>Recipients</h2>
      <table>
        <thead><tr><th>address</th><th>state</th><th class="num">attempts</th><th>next attempt</th><th>last reply</th><th>TLS</th></tr></thead>
        <tbody>
          {t.recipients.map((r) => (
            <tr>
              <td>{r.address}</td>
              <td><span class={`state ${r.state}`}>{r.state}</span></td>
              <td class="num">{r.attempts}</td>
              <td>{time(r.next_attempt_at)}</td>
              <td><code>{r.last_reply ?? ""}</code></td>
              <td><Tls t={r.last_tls} delivered={r.state === "delivered"} /></td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Trace</h2>
      <ol class="trace">
        {t.events.map((e) => (
          <li class={e.type}>
            <span class="at">{time(e.at)}</span> <span class={`state ${e.type}`}>{e.type}</span>
            {e.recipient ? <span> {e.recipient}</span> : null}
            {e.reply ? <code> {[e.reply.code, e.reply.enhanced, e.reply.text].filter((x) => x !== null && x !== "").join(" ")}</code> : null}
            {e.detail ? <span class="muted"> {e.reply ? viaOf(e.detail) : e.detail}</span> : null}
            {e.tls ? <> <Tls t={e.tls} delivered={e.type === "delivered"} /></> : null}
          </li>
        ))}
      </ol>
    </>
  );
}
