import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Database } from "../../../src/db/client.ts";
import { eventSeries } from "../../../src/dashboard/overview-data.ts";
import { SeriesCache } from "../../../src/dashboard/series-cache.ts";
import { openDatabase } from "../../../src/runtime/bun-db.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

const MINUTE = 60_000;
const T0 = Math.floor(1_800_000_000_000 / MINUTE) * MINUTE;
let dir: string;
let database: Database;

beforeAll(async () => {
  dir = tempDir();
  database = await openDatabase(`file:${join(dir, "s.db")}`);
  // The events' message (events reference messages, messages their account).
  await database.client.batch([
    "INSERT INTO accounts (id, name, created_at) VALUES ('a', 'acme', 0)",
    "INSERT INTO messages (id, account_id, source, mail_from, raw, size, created_at) VALUES ('m', 'a', 'http', '', X'00', 1, 0)",
  ], "write");
});
afterAll(() => {
  database?.close();
  if (dir) removeDir(dir);
});

async function add(type: string, at: number, n = 1) {
  for (let i = 0; i < n; i++) await database.client.execute({ sql: "INSERT INTO events (message_id, type, created_at) VALUES ('m', ?, ?)", args: [type, at] });
}

test("the cached day series equals a full read as time passes and events arrive", async () => {
  const cache = new SeriesCache();
  await add("accepted", T0 - 1000 * MINUTE, 3);
  await add("delivered", T0 - 30 * MINUTE, 2);
  await add("deferred", T0 - 10 * MINUTE);
  await add("retried", T0 - 5 * MINUTE);
  let now = T0 + 20_000;
  expect(await cache.series(database.sql, now, 1440)).toEqual(await eventSeries(database.sql, now, 1440));
  // Later: events in the current and the last minutes, and the window moves past old ones.
  for (const step of [1, 2, 7, 400, 1100]) {
    now = T0 + step * MINUTE + 5_000;
    await add("bounced", now - 1000);
    await add("accepted", now - 2 * MINUTE, 2);
    const cached = await cache.series(database.sql, now, 1440);
    expect(cached).toEqual(await eventSeries(database.sql, now, 1440));
  }
  const last = await cache.series(database.sql, now, 1440);
  expect(last.counts.accepted.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  expect(last.counts.accepted.length).toBe(1440);
});
