import { afterEach, expect, test } from "bun:test";
import { createClient, type Client } from "@libsql/client";
import { join } from "node:path";
import { applyMigrations } from "../../../src/db/migrate.ts";
import { MIGRATIONS } from "../../../src/db/migrations.gen.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

let dir: string;
let client: Client;
afterEach(() => {
  client?.close();
  if (dir) removeDir(dir);
});

async function open(): Promise<Client> {
  dir = tempDir();
  client = createClient({ url: `file:${join(dir, "c.db")}` });
  return client;
}

const rowsOf = async (c: Client, sql: string, args: (string | number | null)[] = []) => (await c.execute({ sql, args })).rows;

test("every table with an account_id column references accounts with ON DELETE CASCADE", async () => {
  const c = await open();
  await applyMigrations(c);
  const tables = (await rowsOf(c, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")).map((r) => String(r.name));
  const holders = [];
  const missing = [];
  for (const t of tables) {
    const cols = (await rowsOf(c, `SELECT name FROM pragma_table_info(?)`, [t])).map((r) => String(r.name));
    if (!cols.includes("account_id")) continue;
    holders.push(t);
    const fks = await rowsOf(c, `SELECT "table", "from", on_delete FROM pragma_foreign_key_list(?)`, [t]);
    if (!fks.some((f) => f.table === "accounts" && f.from === "account_id" && String(f.on_delete).toUpperCase() === "CASCADE")) missing.push(t);
  }
  expect(holders.length).toBeGreaterThanOrEqual(10);
  expect(missing).toEqual([]);
});

test("removing an account removes its rows everywhere, through the cascade alone", async () => {
  const c = await open();
  await applyMigrations(c);
  expect(Number((await rowsOf(c, "PRAGMA foreign_keys"))[0]![0])).toBe(1);
  for (const id of ["a1", "a2"]) {
    await c.batch([
      { sql: "INSERT INTO accounts (id, name, created_at) VALUES (?, ?, 1)", args: [id, `acct-${id}`] },
      { sql: "INSERT INTO smtp_credentials (id, account_id, username, password_hash, created_at) VALUES (?, ?, ?, 'h', 1)", args: [`c-${id}`, id, `u-${id}`] },
      { sql: "INSERT INTO api_keys (id, account_id, key_hash, created_at) VALUES (?, ?, 'h', 1)", args: [`k-${id}`, id] },
      { sql: "INSERT INTO sender_rules (account_id, pattern) VALUES (?, 'example.com')", args: [id] },
      { sql: "INSERT INTO trusted_networks (account_id, cidr) VALUES (?, ?)", args: [id, id === "a1" ? "192.0.2.0/24" : "198.51.100.0/24"] },
      { sql: "INSERT INTO rate_counters (account_id, minute_start, minute_count, day_start, day_count) VALUES (?, 0, 1, 0, 1)", args: [id] },
      { sql: "INSERT INTO messages (id, account_id, source, mail_from, raw, size, created_at) VALUES (?, ?, 'http', 'a@example.com', X'00', 1, 1)", args: [`m-${id}`, id] },
      { sql: "INSERT INTO recipients (message_id, address, domain, state, next_attempt_at, updated_at) VALUES (?, 'b@example.net', 'example.net', 'queued', 0, 1)", args: [`m-${id}`] },
      { sql: "INSERT INTO events (message_id, type, created_at) VALUES (?, 'accepted', 1)", args: [`m-${id}`] },
      { sql: "INSERT INTO idempotency_keys (account_id, key, message_id, created_at) VALUES (?, 'k', ?, 1)", args: [id, `m-${id}`] },
      { sql: "INSERT INTO suppressions (account_id, address, reason, created_at) VALUES (?, 'x@example.net', 'manual', 1)", args: [id] },
      { sql: "INSERT INTO account_events (account_id, type, data, created_at) VALUES (?, 'message.delivered', '{}', 1)", args: [id] },
      { sql: "INSERT INTO webhook_endpoints (id, account_id, url, secret, created_at) VALUES (?, ?, 'https://example.org/h', 's', 1)", args: [`w-${id}`, id] },
      { sql: "INSERT INTO webhook_deliveries (endpoint_id, event_id, state, next_attempt_at, created_at, updated_at) VALUES (?, last_insert_rowid(), 'pending', 0, 1, 1)", args: [`w-${id}`] },
      { sql: "INSERT INTO webhook_attempts (delivery_id, attempted_at, latency_ms) VALUES (last_insert_rowid(), 1, 1)", args: [] },
    ], "write");
  }
  await c.execute("DELETE FROM accounts WHERE id = 'a1'");
  const children = ["smtp_credentials", "api_keys", "sender_rules", "trusted_networks", "rate_counters", "messages", "recipients", "events", "idempotency_keys", "suppressions", "account_events", "webhook_endpoints", "webhook_deliveries", "webhook_attempts"];
  for (const t of children) expect([t, Number((await rowsOf(c, `SELECT count(*) FROM ${t}`))[0]![0])]).toEqual([t, 1]);
  expect((await rowsOf(c, "SELECT account_id FROM messages")).map((r) => r.account_id)).toEqual(["a2"]);
});

test("the cascade migration drops orphans, keeps every owned row, and moves route events to the operators' null account", async () => {
  const c = await open();
  const before = MIGRATIONS.findIndex((m) => m.tag === "0013_account_cascade");
  expect(before).toBeGreaterThan(0);
  await applyMigrations(c, MIGRATIONS.slice(0, before));
  // Rows as an older version could leave them: no foreign keys on these tables then.
  await c.batch([
    "INSERT INTO accounts (id, name, created_at) VALUES ('a1', 'kept', 1)",
    "INSERT INTO messages (id, account_id, source, mail_from, raw, size, created_at) VALUES ('m1', 'a1', 'http', '', X'00', 1, 1)",
    "INSERT INTO messages (id, account_id, source, mail_from, raw, size, created_at) VALUES ('m-gone', 'gone', 'http', '', X'00', 1, 1)",
    "INSERT INTO recipients (message_id, address, domain, state, next_attempt_at, updated_at) VALUES ('m1', 'b@example.net', 'example.net', 'queued', 0, 1)",
    "INSERT INTO events (message_id, type, created_at) VALUES ('m1', 'accepted', 1)",
    "INSERT INTO events (message_id, type, created_at) VALUES ('m-gone', 'accepted', 1)",
    "INSERT INTO suppressions (account_id, address, reason, created_at) VALUES ('gone', 'x@example.net', 'manual', 1)",
    "INSERT INTO suppressions (account_id, address, reason, created_at) VALUES ('a1', 'x@example.net', 'manual', 1)",
    "INSERT INTO account_events (account_id, type, data, created_at) VALUES ('', 'route.degraded', '{}', 1)",
    "INSERT INTO account_events (account_id, type, data, created_at) VALUES ('gone', 'message.delivered', '{}', 1)",
    "INSERT INTO webhook_endpoints (id, account_id, url, secret, created_at) VALUES ('w-gone', 'gone', 'https://example.org/h', 's', 1)",
    "INSERT INTO webhook_deliveries (endpoint_id, event_id, state, next_attempt_at, created_at, updated_at) VALUES ('w-gone', 2, 'pending', 0, 1, 1)",
  ], "write");
  expect(await applyMigrations(c)).toEqual(MIGRATIONS.slice(before).map((m) => m.tag));
  expect((await rowsOf(c, "SELECT id FROM messages")).map((r) => r.id)).toEqual(["m1"]);
  expect((await rowsOf(c, "SELECT message_id FROM recipients")).map((r) => r.message_id)).toEqual(["m1"]);
  expect((await rowsOf(c, "SELECT message_id FROM events")).map((r) => r.message_id)).toEqual(["m1"]);
  expect((await rowsOf(c, "SELECT account_id FROM suppressions")).map((r) => r.account_id)).toEqual(["a1"]);
  expect((await rowsOf(c, "SELECT account_id, type FROM account_events")).map((r) => [r.account_id, r.type])).toEqual([[null, "route.degraded"]]);
  expect(Number((await rowsOf(c, "SELECT count(*) FROM webhook_endpoints"))[0]![0])).toBe(0);
  expect(Number((await rowsOf(c, "SELECT count(*) FROM webhook_deliveries"))[0]![0])).toBe(0);
  expect(await rowsOf(c, "PRAGMA foreign_key_check")).toEqual([]);
  // The queue counts follow the rebuilt recipients table (its triggers are made again).
  expect((await rowsOf(c, "SELECT n FROM queue_counts WHERE state = 'queued'")).map((r) => Number(r.n))).toEqual([1]);
});
