import { afterEach, expect, test } from "bun:test";
import { createClient, type Client } from "@libsql/client";
import { join } from "node:path";
import { applyMigrations } from "../../../src/db/migrate.ts";
import { MIGRATIONS } from "../../../src/db/migrations.gen.ts";
import { embeddedSource } from "../../../scripts/embed-migrations.ts";
import { readFileSync } from "node:fs";
import { removeDir, tempDir } from "../../support/relay.ts";

let dir: string;
let client: Client;
afterEach(() => {
  client?.close();
  if (dir) removeDir(dir);
});

test("the embedded migrations are exactly those in migrations/", () => {
  expect(readFileSync(join(import.meta.dir, "../../../src/db/migrations.gen.ts"), "utf8")).toBe(embeddedSource());
});

test("applies every migration once, in one batch, with drizzle's bookkeeping", async () => {
  dir = tempDir();
  client = createClient({ url: `file:${join(dir, "m.db")}` });
  expect(await applyMigrations(client)).toEqual(MIGRATIONS.map((m) => m.tag));
  expect(await applyMigrations(client)).toEqual([]);
  const rows = (await client.execute(`SELECT hash, created_at FROM "__drizzle_migrations" ORDER BY created_at`)).rows;
  expect(rows.map((r) => Number(r.created_at))).toEqual(MIGRATIONS.map((m) => m.when));
  const tables = (await client.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).rows.map((r) => r.name);
  expect(tables).toContain("recipients");
  expect(tables).toContain("trusted_networks");
});
