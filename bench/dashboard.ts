/**
 * The dashboard overview on a large database: fills a libSQL file with EVENTS events (default
 * 1 000 000) spread over the last SPAN_DAYS days (default 7), plus messages and accounts,
 * then times each overview statement and the whole page (GET /dashboard through the real
 * app, logged in) and the per-minute chart data. Prints a table; results go in
 * bench/dashboard.md by hand. (The day chart's endpoint keeps settled minutes, series-cache.ts:
 * its first answer reads the whole day, the next ones only the last minutes.)
 *
 *   bun bench/dashboard.ts                      # 1 000 000 events over 7 days
 *   SPAN_DAYS=1 bun bench/dashboard.ts          # all of them in the last 24 h (the worst case)
 */
import { join } from "node:path";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { loadConfig } from "../src/config.ts";
import { createGatewayStack } from "../src/stack.ts";
import { GroupCommit } from "../src/db/group-commit.ts";
import { openDatabase } from "../src/runtime/bun-db.ts";
import { accountsNearLimits, eventSeries, queueDepth, topDeferrals, windowTotals } from "../src/dashboard/overview-data.ts";
import { searchAllMessages } from "../src/dashboard/message-data.ts";

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const SPAN_DAYS = Number(process.env.SPAN_DAYS ?? 7);
const MESSAGES = Number(process.env.MESSAGES ?? 100_000);
const RUNS = 20;
const TOKEN = "bench-admin-token-0123456789abcdef0123456789";

const dir = mkdtempSync(join(tmpdir(), "smarthost-dash-bench-"));
const url = `file:${join(dir, "bench.db")}`;
const now = Date.now();
const span = SPAN_DAYS * 86_400_000;

const database = await openDatabase(url);
try {
  const c = database.client;
  const t0 = performance.now();
  await c.execute("INSERT INTO accounts (id, name, per_minute, per_day, created_at) SELECT 'acc' || value, 'account' || value, 100 + value, 10000, 0 FROM json_each('[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]')");
  // Messages (a small raw body each) with one recipient, over the same span.
  await c.execute({
    sql: `INSERT INTO messages (id, account_id, source, mail_from, raw, size, created_at)
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
      SELECT printf('M%010d', i), 'acc' || (1 + i % 20), 'http', 'sender' || (i % 50) || '@example.com',
        CAST('Subject: message ' || i || char(13, 10, 13, 10) || 'hello' AS BLOB), 40, CAST(? - (i * ? / ?) AS INTEGER) FROM n`,
    args: [MESSAGES, now, span, MESSAGES],
  });
  // Events: mostly accepted/delivered, some deferred (eight distinct replies) and bounced.
  await c.execute({
    sql: `INSERT INTO events (message_id, recipient, type, detail, reply, created_at)
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
      SELECT printf('M%010d', i % ?), 'rcpt' || (i % 1000) || '@dest.test',
        CASE WHEN i % 100 < 42 THEN 'accepted' WHEN i % 100 < 80 THEN 'delivered' WHEN i % 100 < 94 THEN 'deferred' WHEN i % 100 < 98 THEN 'bounced' ELSE 'retried' END,
        'attempt', CASE WHEN i % 100 BETWEEN 80 AND 93 THEN json_object('code', 451, 'enhanced', '4.7.' || (i % 8), 'text', 'try again later (reason ' || (i % 8) || ')')
          WHEN i % 100 BETWEEN 94 AND 97 THEN json_object('code', 550, 'enhanced', '5.1.1', 'text', 'no such user') ELSE NULL END,
        CAST(? - ? + i * ? / ? AS INTEGER) FROM n`,
    // In the order a relay writes them: ids and times rise together.
    args: [EVENTS, MESSAGES, now, span, span, EVENTS],
  });
  const count = Number((await c.execute("SELECT count(*) AS n FROM events")).rows[0]!.n);
  const lastDay = Number((await c.execute({ sql: "SELECT count(*) AS n FROM events WHERE created_at >= ?", args: [now - 86_400_000] })).rows[0]!.n);
  await c.execute("ANALYZE");
  console.log(`filled ${count} events (${lastDay} in the last 24 h), ${MESSAGES} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const writer = new GroupCommit(database.sql);
  const { app } = createGatewayStack({ config: loadConfig({ SMARTHOST_DB_URL: url, SMARTHOST_ADMIN_TOKEN: TOKEN }), database, writer, hostname: "bench.test", log: () => {} });
  const login = await app.request("/dashboard/login", { method: "POST", body: new URLSearchParams({ token: TOKEN }) });
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
  if (!cookie) throw new Error(`login failed: ${login.status}`);

  const sql = database.sql;
  const cases: [string, () => Promise<unknown>][] = [
    ["per-minute series, last hour", () => eventSeries(sql, Date.now(), 60)],
    ["per-minute series, last day", () => eventSeries(sql, Date.now(), 1440)],
    ["totals, last hour", () => windowTotals(sql, Date.now() - 3_600_000)],
    ["totals, last day", () => windowTotals(sql, Date.now() - 86_400_000)],
    ["top deferral reasons, last hour (shown)", () => topDeferrals(sql, Date.now() - 3_600_000)],
    ["top deferral reasons, last day", () => topDeferrals(sql, Date.now() - 86_400_000)],
    ["queue depth", () => queueDepth(sql)],
    ["accounts nearest limits", () => accountsNearLimits(sql, Date.now())],
    ["latest messages", () => searchAllMessages(sql, { limit: 10 })],
    ["GET /dashboard (whole page)", async () => expectOk(await app.request("/dashboard", { headers: { cookie } }))],
    ["GET /dashboard (htmx fragment)", async () => expectOk(await app.request("/dashboard", { headers: { cookie, "hx-request": "true" } }))],
    ["GET /dashboard/series?minutes=1440", async () => expectOk(await app.request("/dashboard/series?minutes=1440", { headers: { cookie } }))],
  ];
  console.log(`| what | first ms | p50 ms | max ms (${RUNS} runs after the first) |\n|---|---:|---:|---:|`);
  for (const [name, fn] of cases) {
    const f0 = performance.now();
    await fn();
    const first = performance.now() - f0;
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      await fn();
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    console.log(`| ${name} | ${first.toFixed(1)} | ${times[Math.floor(RUNS / 2)]!.toFixed(1)} | ${times.at(-1)!.toFixed(1)} |`);
  }
  const plan = await c.execute({ sql: "EXPLAIN QUERY PLAN SELECT created_at / 60000 AS minute, type, count(*) FROM events WHERE created_at >= ? AND type IN ('accepted','delivered','deferred','bounced') GROUP BY type, minute", args: [now] });
  console.log(`plan: ${plan.rows.map((r) => r.detail).join(" / ")}`);
} finally {
  database.close();
  rmSync(dir, { recursive: true, force: true });
}

async function expectOk(res: Response): Promise<void> {
  if (res.status !== 200) throw new Error(`${res.status}`);
  await res.arrayBuffer();
}
