/** The delivery loop's retention pass also purges expired idempotency keys and spent AUTH counts. */
import { expect, test } from "bun:test";
import { addTenant, openDb, removeDir, startRelay, tempDir } from "../support/relay.ts";
import { waitFor } from "../support/wait.ts";

test("a running relay purges day-old idempotency keys and AUTH counts past their window, even with retention 0", async () => {
  const dir = tempDir();
  await addTenant(dir);
  const dbUrl = `file:${dir}/smarthost.db`;
  const db = openDb(dbUrl);
  const now = Date.now();
  // Keys belong to an account that exists (foreign keys cascade from accounts).
  const account = String((await db.execute("SELECT id FROM accounts WHERE name = 'acme'")).rows[0]!.id);
  await db.execute({ sql: "INSERT INTO idempotency_keys (account_id, key, message_id, created_at) VALUES (?, 'old', 'm1', ?), (?, 'new', 'm2', ?)", args: [account, now - 25 * 3600_000, account, now] });
  await db.execute({ sql: "INSERT INTO auth_failures (key, count, window_start, blocked_until) VALUES ('ip:192.0.2.1', 9, ?, 0), ('ip:192.0.2.2', 1, ?, 0)", args: [now - 3600_000, now] });
  const relay = await startRelay(dir, { SMARTHOST_DELIVERY: "true", SMARTHOST_RETENTION_SECONDS: "0" });
  try {
    const keys = async () => (await db.execute("SELECT key FROM idempotency_keys ORDER BY key")).rows.map((r) => r.key);
    await waitFor("the old idempotency key to go", async () => (await keys()).length === 1);
    expect(await keys()).toEqual(["new"]);
    expect((await db.execute("SELECT key FROM auth_failures")).rows.map((r) => r.key)).toEqual(["ip:192.0.2.2"]);
  } finally {
    db.close();
    await relay.stop();
    removeDir(dir);
  }
});
