/** @jsxImportSource hono/jsx */
/**
 * The dashboard's pages and actions. Each page renders its live part alone when htmx asks
 * (HX-Request), so polling swaps a fragment instead of reloading the page. Actions are
 * form POSTs (CSRF-checked in auth.tsx) answered with a redirect back to the page (303:
 * reloading never posts twice), calling the same src/admin functions as the CLI.
 */
import type { Context, Hono } from "hono";
import type { Child } from "hono/jsx";
import { listAccounts } from "../admin/account-manage.ts";
import { listDkimKeys } from "../admin/dkim.ts";
import { listKeys, revokeKey } from "../admin/keys.ts";
import { queueAct, type QueueAction } from "../admin/queue-actions.ts";
import { listRoutes } from "../admin/route-list.ts";
import type { Storage } from "../db/storage.ts";
import { inWriteTransaction, removeSuppressionEntry } from "../suppression/manage.ts";
import { listSuppressions } from "../suppression/store.ts";
import { listDeliveries, replayDelivery } from "../webhooks/deliveries.ts";
import { getEndpoint, listEndpoints } from "../webhooks/endpoints.ts";
import type { DashboardEnv } from "./auth.tsx";
import { RECIPIENT_STATES, messageTrace, parseCursor, searchMessages } from "./message-data.ts";
import { messageContent, messageSource } from "./message-source.ts";
import { overviewData } from "./overview-load.ts";
import { eventSeries } from "./overview-data.ts";
import { SeriesCache } from "./series-cache.ts";
import { routeEventViews } from "./shaping-data.ts";
import { deliveryRates } from "./rates-data.ts";
import { RatesBody } from "./views/rates.tsx";
import { Flash, Live, Page, BASE } from "./views/layout.tsx";
import { MessageTable, Pager, SearchBox, TraceBody, type SearchForm } from "./views/messages.tsx";
import { MessageContentView, TextPreview, type PreviewPart } from "./views/message-view.tsx";
import { Accounts, Deliveries, DkimKeys, Endpoints, Keys, Routes, Suppressions } from "./views/objects.tsx";
import { Charts, OverviewBody } from "./views/overview.tsx";
import { RouteEvents } from "./views/shaping.tsx";
import { Failure, isFailure } from "../core/failure.ts";

export interface PageDeps {
  storage: Storage;
  hostname: string;
  now: () => number;
}

type C = Context<DashboardEnv>;
const QUEUE_ACTIONS: readonly QueueAction[] = ["retry", "hold", "release", "delete"];
const PAGE_ROWS = 100;
const DAY = 86_400_000;
const PER_PAGE = [10, 25, 50, 100];

/**
 * The message preview's own page: nothing may be loaded from anywhere (no remote image
 * or font tracks the reader), no script runs, inline styles only; framed by our pages alone.
 */
const PREVIEW_CSP = ["default-src 'none'", "style-src 'unsafe-inline'", "img-src data:", "font-src data:", "form-action 'none'", "base-uri 'none'", "frame-ancestors 'self'", "sandbox"].join("; ");

/** The whole page, or only its live part for htmx's poll. */
function render(c: C, deps: PageDeps, title: string, nav: string, live: Child, above: Child = null, below: Child = null) {
  const url = c.req.path + (new URL(c.req.url).search || "");
  if (c.req.header("hx-request")) return c.html(<>{live}</>);
  return c.html(
    <Page title={title} path={nav} csrf={c.get("session").csrf} hostname={deps.hostname}>
      <Flash text={c.req.query("done")} />
      {above}
      <Live url={url}>{live}</Live>
      {below}
    </Page>,
  );
}

/** A redirect back after an action, saying what it did (shown escaped, as all text). */
const back = (c: C, to: string, done: string) => c.redirect(`${to}${to.includes("?") ? "&" : "?"}done=${encodeURIComponent(done)}`, 303);

/** An admin error from an action (unknown id, nothing to do) shown on the page it came from. */
async function acting(c: C, to: string, fn: () => Promise<string>) {
  try {
    return back(c, to, await fn());
  } catch (err) {
    if (err instanceof Failure) return back(c, to, err.message);
    throw err;
  }
}

/** datetime-local input (shown and read as UTC) → ms; undefined when empty or unreadable. */
function instant(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`);
  return Number.isFinite(t) ? t : undefined;
}

export function pageRoutes(app: Hono<DashboardEnv>, deps: PageDeps): void {
  const { storage, now } = deps;
  const sql = () => storage.sql;

  app.get("/", async (c) => {
    const live = <OverviewBody d={await overviewData(storage, now())} />;
    if (c.req.header("hx-request")) return render(c, deps, "Overview", "", live);
    // The rates read a day of recipients: once when the page loads, not at every refresh.
    const rates = await deliveryRates(sql(), now() - DAY);
    return render(c, deps, "Overview", "", live, <Charts />, <RatesBody r={rates} window="mail accepted in the last 24 h" />);
  });
  const daySeries = new SeriesCache();
  app.get("/series", async (c) => c.json(c.req.query("minutes") === "1440" ? await daySeries.series(sql(), now(), 1440) : await eventSeries(sql(), now(), 60)));

  app.get("/messages", async (c) => {
    const q = c.req.query();
    const f: SearchForm = { recipient: q.recipient?.trim(), sender: q.sender?.trim(), id: q.id?.trim(), subject: q.subject?.trim(), state: q.state, since: q.since, until: q.until };
    const state = (RECIPIENT_STATES as readonly string[]).includes(f.state ?? "") ? f.state : undefined;
    const perPage = PER_PAGE.includes(Number(q.per_page)) ? Number(q.per_page) : 50;
    const page = await searchMessages(sql(), {
      recipient: f.recipient || undefined,
      sender: f.sender || undefined,
      id: f.id || undefined,
      subject: f.subject || undefined,
      state,
      since: instant(f.since),
      until: instant(f.until),
      before: parseCursor(q.before),
      after: q.before ? undefined : parseCursor(q.after),
      limit: perPage,
    });
    const live = <><MessageTable hits={page.hits} /><Pager f={f} perPage={perPage} newer={page.newer} older={page.older} /></>;
    return render(c, deps, "Messages", "/messages", live, <SearchBox f={f} />);
  });
  app.get("/messages/:id", async (c) => {
    const id = c.req.param("id");
    const t = await messageTrace(sql(), id);
    if (!t) return c.html(<Page title="No such message" path="/messages" csrf={c.get("session").csrf} hostname={deps.hostname}><p>No message with that id.</p></Page>, 404);
    const live = <TraceBody t={t} csrf={c.get("session").csrf} />;
    // The content does not change: shown once below the live trace, not polled.
    if (c.req.header("hx-request")) return render(c, deps, "", "/messages", live);
    const raw = await messageSource(sql(), id);
    const content = raw ? await messageContent(raw) : null;
    const part: PreviewPart | null = content?.html != null ? "html" : content?.text != null ? "text" : null;
    return render(c, deps, `Message ${t.message.id}`, "/messages", live, null, content ? <MessageContentView id={id} c={content} part={part} /> : null);
  });
  app.get("/messages/:id/raw", async (c) => {
    const id = c.req.param("id");
    const raw = await messageSource(sql(), id);
    if (!raw) return c.text("No such message", 404);
    // The bytes as stored, never rendered: a download (RFC 6266) of type message/rfc822.
    const name = `${id.replace(/[^A-Za-z0-9._-]/g, "_")}.eml`;
    return c.body(raw, 200, { "content-type": "message/rfc822", "content-disposition": `attachment; filename="${name}"` });
  });
  app.get("/messages/:id/preview", async (c) => {
    const raw = await messageSource(sql(), c.req.param("id"));
    c.header("Content-Security-Policy", PREVIEW_CSP);
    c.header("X-Frame-Options", "SAMEORIGIN");
    if (!raw) return c.text("No such message", 404);
    const content = await messageContent(raw);
    if (c.req.query("part") !== "text" && content.html !== null) return c.html(content.html);
    return c.html(<TextPreview text={content.text ?? ""} />);
  });
  for (const action of QUEUE_ACTIONS) {
    app.post(`/messages/:id/${action}`, async (c) => {
      const id = c.req.param("id");
      return acting(c, `${BASE}/messages/${encodeURIComponent(id)}`, async () => {
        const r = await queueAct(storage.db, action, { id }, { now: now(), hostname: deps.hostname, writer: storage.writer });
        return `${action}: ${r.recipients} recipient(s)${r.in_delivery ? `, ${r.in_delivery} being delivered right now` : ""}`;
      });
    });
  }

  app.get("/suppressions", async (c) => {
    const names = await accountNames(storage);
    const rows = (await listSuppressions(sql(), null, { limit: 500, now: now() })).map((s) => ({ ...s, account: names.get(s.accountId) ?? s.accountId }));
    return render(c, deps, "Suppressions", "/suppressions", <Suppressions rows={rows} csrf={c.get("session").csrf} />);
  });
  app.post("/suppressions/remove", async (c) => {
    const form = await c.req.parseBody();
    const [accountId, address] = [String(form.account_id ?? ""), String(form.address ?? "")];
    const removed = await removeSuppressionEntry(storage.writer, accountId, address, now()).catch((err: unknown) => {
      if (isFailure(err, "invalid")) return false;
      throw err;
    });
    return back(c, `${BASE}/suppressions`, removed ? `${address} removed` : `${address} was not on the list`);
  });

  app.get("/webhooks", async (c) => {
    const names = await accountNames(storage);
    const rows = (await listEndpoints(sql(), null)).map((e) => ({ ...e, account: names.get(e.accountId) ?? e.accountId }));
    return render(c, deps, "Webhooks", "/webhooks", <Endpoints rows={rows} />);
  });
  app.get("/webhooks/:id", async (c) => {
    const e = await getEndpoint(sql(), null, c.req.param("id"));
    if (!e) return c.redirect(`${BASE}/webhooks`, 303);
    const rows = await listDeliveries(sql(), e.id, null, PAGE_ROWS);
    return render(c, deps, `Webhook ${e.id}: ${e.url}`, "/webhooks", <Deliveries endpoint={e.id} rows={rows} csrf={c.get("session").csrf} />);
  });
  app.post("/webhooks/deliveries/:id/replay", async (c) => {
    const form = await c.req.parseBody();
    const e = await getEndpoint(sql(), null, String(form.endpoint ?? ""));
    const id = c.req.param("id");
    const ok = e !== null && /^\d{1,15}$/.test(id) && (await inWriteTransaction(storage.writer, (tx) => replayDelivery(tx, e.accountId, Number(id), now())));
    return back(c, e ? `${BASE}/webhooks/${encodeURIComponent(e.id)}` : `${BASE}/webhooks`, ok ? `delivery ${id} will be sent again now` : `no delivery ${id} on that webhook`);
  });

  app.get("/accounts", async (c) => {
    const [accounts, keys] = await Promise.all([listAccounts(storage.db), listKeys(storage.db)]);
    return render(c, deps, "Accounts & keys", "/accounts", <><h2>Accounts</h2><Accounts rows={accounts} /><h2>API keys</h2><Keys rows={keys} csrf={c.get("session").csrf} /></>);
  });
  app.post("/keys/:id/revoke", (c) => acting(c, `${BASE}/accounts`, async () => `key ${(await revokeKey(storage.db, c.req.param("id"), now())).id} revoked`));

  app.get("/routes", async (c) => {
    const [routes, events, dkim] = await Promise.all([listRoutes(storage.db, now()), routeEventViews(sql()), listDkimKeys({ db: storage.db, now })]);
    return render(c, deps, "Routes & DKIM", "/routes", <><h2>Routes</h2><Routes rows={routes} /><h2>Route events</h2><RouteEvents rows={events} /><h2>DKIM keys</h2><DkimKeys rows={dkim} /></>);
  });
}

async function accountNames(storage: Storage): Promise<Map<string, string>> {
  const rs = await storage.sql.execute("SELECT id, name FROM accounts");
  return new Map(rs.rows.map((r) => [String(r.id), String(r.name)]));
}
