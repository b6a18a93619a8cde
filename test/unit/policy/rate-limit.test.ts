import { afterEach, expect, test } from "bun:test";
import { createClient, type Client } from "@libsql/client";
import { join } from "node:path";
import { applyMigrations } from "../../../src/db/migrate.ts";
import { libsqlConfig } from "../../../src/db/client.ts";
import { consumeRate, peekRate } from "../../../src/policy/rate-limit.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

let dir = "";
const clients: Client[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  if (dir) removeDir(dir);
});

async function open(): Promise<Client[]> {
  dir = tempDir();
  const url = `file:${join(dir, "r.db")}`;
  // Two connections to one file: two nodes sharing the database.
  for (let i = 0; i < 2; i++) clients.push(createClient(libsqlConfig(url)));
  await applyMigrations(clients[0]!);
  await clients[0]!.execute("INSERT INTO accounts (id, name, created_at) VALUES ('acct', 'acme', 0), ('other', 'other', 0)");
  return clients;
}

const day = Date.UTC(2026, 10, 29);
const limits = { perMinute: null, perDay: null, recipientsPerDay: 5 };

test("recipients per day: summed over messages, a message that does not fit counts nothing", async () => {
  const [a] = await open();
  expect(await consumeRate(a!, "acct", limits, day + 1_000, 3)).toEqual({ ok: true });
  const refused = await consumeRate(a!, "acct", limits, day + 2_000, 3);
  expect(refused).toMatchObject({ ok: false, window: "recipients" });
  expect((refused as { retryAfterSeconds: number }).retryAfterSeconds).toBe(86_398);
  expect(await peekRate(a!, "acct", limits, day + 2_000, 2)).toBeNull();
  expect(await consumeRate(a!, "acct", limits, day + 3_000, 2)).toEqual({ ok: true });
  expect(await peekRate(a!, "acct", limits, day + 3_000)).toMatchObject({ window: "recipients" });
  // The next UTC day starts again.
  expect(await consumeRate(a!, "acct", limits, day + 86_400_000, 5)).toEqual({ ok: true });
  // More recipients than a whole day allows can never fit.
  expect(await consumeRate(a!, "other", limits, day, 6)).toMatchObject({ ok: false, window: "recipients" });
});

test("exact across connections: 20 parallel one-recipient messages against a limit of 5", async () => {
  const [a, b] = await open();
  const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => consumeRate(i % 2 ? a! : b!, "acct", limits, day + 5_000, 1)));
  expect(outcomes.filter((o) => o.ok).length).toBe(5);
  const row = (await a!.execute("SELECT day_count, day_recipients FROM rate_counters")).rows[0]!;
  expect([Number(row.day_count), Number(row.day_recipients)]).toEqual([5, 5]);
});
