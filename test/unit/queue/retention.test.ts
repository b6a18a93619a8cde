import { afterEach, expect, test } from "bun:test";
import { createClient, type Client } from "@libsql/client";
import { join } from "node:path";
import { applyMigrations } from "../../../src/db/migrate.ts";
import { GroupCommit } from "../../../src/db/group-commit.ts";
import { IDEMPOTENCY_WINDOW_MS, insertMessage } from "../../../src/queue/enqueue.ts";
import { purgeExpired, purgeFinished } from "../../../src/queue/retention.ts";
import { THROTTLE } from "../../../src/policy/auth-throttle.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

let dir = "";
let client: Client;
afterEach(() => {
  client?.close();
  if (dir) removeDir(dir);
});

test("removes finished messages past retention, keeps queued and recent ones", async () => {
  dir = tempDir();
  client = createClient({ url: `file:${join(dir, "r.db")}` });
  await applyMigrations(client);
  await client.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a', 'acme', 0)");
  const writer = new GroupCommit(client);
  const msg = (id: string) => ({ id, accountId: "a", source: "smtp" as const, mailFrom: "a@b.c", raw: new TextEncoder().encode("x\r\n"), recipients: [{ address: "r@d.e", domain: "d.e" }], smtputf8: false });
  await writer.write((sql) => insertMessage(sql, msg("old-done"), 1_000));
  await writer.write((sql) => insertMessage(sql, msg("old-queued"), 1_000));
  await writer.write((sql) => insertMessage(sql, msg("new-done"), 9_000));
  await client.execute("UPDATE recipients SET state = 'delivered' WHERE message_id IN ('old-done', 'new-done')");
  expect(await purgeFinished(writer, 5_000)).toBe(1);
  const left = (await client.execute("SELECT id FROM messages ORDER BY id")).rows.map((r) => r.id);
  expect(left).toEqual(["new-done", "old-queued"]);
  expect(Number((await client.execute("SELECT count(*) AS n FROM events WHERE message_id = 'old-done'")).rows[0]!.n)).toBe(0);
  expect(Number((await client.execute("SELECT count(*) AS n FROM recipients WHERE message_id = 'old-done'")).rows[0]!.n)).toBe(0);
});

test("purges idempotency keys past 24 h, AUTH counts whose window and block have ended, and expired dashboard sessions", async () => {
  dir = tempDir();
  client = createClient({ url: `file:${join(dir, "r.db")}` });
  await applyMigrations(client);
  await client.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a', 'acme', 0)");
  const writer = new GroupCommit(client);
  const now = 10 * IDEMPOTENCY_WINDOW_MS;
  for (const [key, at] of [["old", now - IDEMPOTENCY_WINDOW_MS - 1], ["fresh", now - IDEMPOTENCY_WINDOW_MS + 60_000]] as const) {
    await client.execute({ sql: "INSERT INTO idempotency_keys (account_id, key, message_id, created_at) VALUES ('a', ?, 'm', ?)", args: [key, at] });
  }
  const rows: [string, number, number][] = [
    ["ip:spent", now - THROTTLE.windowMs - 1, 0],
    ["pair:in-window", now - 1_000, 0],
    ["pair:still-blocked", now - THROTTLE.windowMs - 1, now + 60_000],
  ];
  for (const [key, start, blocked] of rows) {
    await client.execute({ sql: "INSERT INTO auth_failures (key, count, window_start, blocked_until) VALUES (?, 3, ?, ?)", args: [key, start, blocked] });
  }
  for (const [id, expires] of [["ended", now], ["live", now + 60_000]] as const) {
    await client.execute({ sql: "INSERT INTO dashboard_sessions (id, token, created_at, expires_at) VALUES (?, 't', 0, ?)", args: [id, expires] });
  }
  expect(await purgeExpired(writer, now)).toEqual({ idempotencyKeys: 1, authFailures: 1, dashboardSessions: 1 });
  expect((await client.execute("SELECT id FROM dashboard_sessions")).rows.map((r) => r.id)).toEqual(["live"]);
  expect((await client.execute("SELECT key FROM idempotency_keys")).rows.map((r) => r.key)).toEqual(["fresh"]);
  expect((await client.execute("SELECT key FROM auth_failures ORDER BY key")).rows.map((r) => r.key)).toEqual(["pair:in-window", "pair:still-blocked"]);
  // Later, with the clock past the block and the window, everything has gone.
  expect(await purgeExpired(writer, now + IDEMPOTENCY_WINDOW_MS)).toEqual({ idempotencyKeys: 1, authFailures: 2, dashboardSessions: 1 });
});

test("a held message is not finished: retention keeps it", async () => {
  dir = tempDir();
  client = createClient({ url: `file:${join(dir, "r.db")}` });
  await applyMigrations(client);
  await client.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a', 'acme', 0)");
  const writer = new GroupCommit(client);
  const msg = (id: string) => ({ id, accountId: "a", source: "smtp" as const, mailFrom: "a@b.c", raw: new TextEncoder().encode("x\r\n"), recipients: [{ address: "r@d.e", domain: "d.e" }], smtputf8: false });
  await writer.write((sql) => insertMessage(sql, msg("old-held"), 1_000));
  await writer.write((sql) => insertMessage(sql, msg("old-deleted"), 1_000));
  await client.execute("UPDATE recipients SET state = 'held' WHERE message_id = 'old-held'");
  await client.execute("UPDATE recipients SET state = 'deleted' WHERE message_id = 'old-deleted'");
  expect(await purgeFinished(writer, 5_000)).toBe(1);
  expect((await client.execute("SELECT id FROM messages")).rows.map((r) => r.id)).toEqual(["old-held"]);
});
