import { afterEach, expect, test } from "bun:test";
import { createClient } from "@libsql/client";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { addRoute, routeRow } from "../../../src/admin/routes.ts";
import type { Database } from "../../../src/db/client.ts";
import { applyMigrations } from "../../../src/db/migrate.ts";
import { applyDataFixups } from "../../../src/secrets/fixups.ts";
import { MIGRATIONS } from "../../../src/db/migrations.gen.ts";
import { routesFor } from "../../../src/delivery/routing.ts";
import { openDatabase } from "../../../src/runtime/bun-db.ts";
import { createSecretBox, generateSecretKey, isSealed } from "../../../src/secrets/cipher.ts";
import { splitRoutePassword } from "../../../src/secrets/route-passwords.ts";
import { removeDir, tempDir } from "../../support/relay.ts";
import { Failure } from "../../../src/core/failure.ts";

const PASSWORD = "Pr0vider-S3cret/é%";
const ENCODED = encodeURIComponent(PASSWORD);

let dir = "";
let database: Database | null = null;
afterEach(() => {
  database?.close();
  database = null;
  if (dir) removeDir(dir);
  dir = "";
});

/** Every byte the database keeps on disk: the file and its write-ahead log. */
function storedBytes(path: string): string {
  return [path, `${path}-wal`].filter(existsSync).map((p) => readFileSync(p).toString("latin1")).join("");
}

test("a route URL loses its password; the password comes back decoded", () => {
  expect(splitRoutePassword(`smtp://user:${ENCODED}@relay.example:587?tls=required`)).toEqual({ url: "smtp://user@relay.example:587?tls=required", password: PASSWORD });
  expect(splitRoutePassword("smtps://relay.example:465")).toEqual({ url: "smtps://relay.example:465", password: null });
  expect(splitRoutePassword("mx")).toEqual({ url: "mx", password: null });
});

test("route add stores the URL without the password and the password sealed; delivery opens it", async () => {
  dir = tempDir();
  const box = await createSecretBox(generateSecretKey());
  const path = join(dir, "r.db");
  database = await openDatabase(`file:${path}`, undefined, box);
  await addRoute(database.db, box, "Example.NET", `smtp://user:${ENCODED}@relay.example:587`);
  const [row] = (await database.client.execute("SELECT domain, url, secret FROM routes")).rows;
  expect(row!.domain).toBe("example.net");
  expect(row!.url).toBe("smtp://user@relay.example:587");
  expect(isSealed(String(row!.secret))).toBe(true);
  const [route] = await routesFor(database.db, "example.net", "mx", box);
  expect(route).toMatchObject({ kind: "relay", label: "smtp://relay.example:587", target: { auth: { username: "user", password: PASSWORD } } });
  database.close();
  database = null;
  expect(storedBytes(path)).not.toContain(PASSWORD);
  expect(storedBytes(path)).not.toContain(ENCODED);
});

test("a bad route URL is refused without repeating the password", async () => {
  const box = await createSecretBox(generateSecretKey());
  for (const bad of [`ftp://user:${ENCODED}@relay.example`, `smtp://user:${ENCODED}@relay.example/path`, `smtp://:${ENCODED}@relay.example:25`]) {
    const err = await routeRow(box, "example.net", bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Failure);
    expect(String(err)).not.toContain(ENCODED);
    expect(String(err)).not.toContain("relay.example");
  }
});

test("a sealed password opens only for its own route, and only with the key", async () => {
  dir = tempDir();
  const box = await createSecretBox(generateSecretKey());
  database = await openDatabase(`file:${join(dir, "r.db")}`, undefined, box);
  await addRoute(database.db, box, "a.test", "smtp://user:one@relay-a.example:25");
  await addRoute(database.db, box, "b.test", "smtp://user@relay-b.example:25");
  // Someone copies a's sealed password onto b's row: it must not open there.
  await database.client.execute("UPDATE routes SET secret = (SELECT secret FROM routes WHERE domain = 'a.test') WHERE domain = 'b.test'");
  await expect(routesFor(database.db, "b.test", "mx", box)).rejects.toMatchObject({ kind: "config", code: "route_password" });
  await expect(routesFor(database.db, "a.test", "mx", await createSecretBox(generateSecretKey()))).rejects.toMatchObject({ kind: "config", code: "route_password" });
  const noKey = await routesFor(database.db, "a.test", "mx").catch((e: unknown) => e);
  expect(noKey).toMatchObject({ kind: "config", code: "route_password" });
  expect(String(noKey)).toContain("SMARTHOST_SECRET_KEY");
  expect(String(noKey)).not.toContain("one");
});

test("opening a database written before sealing seals its clear-text route passwords, once, leaving no trace in the file", async () => {
  dir = tempDir();
  const path = join(dir, "old.db");
  // The database as the previous version left it: its migrations, a route with the password in the URL.
  const old = createClient({ url: `file:${path}` });
  await old.execute("PRAGMA journal_mode=WAL");
  const before = MIGRATIONS.filter((m) => m.tag < "0004");
  expect(before.map((m) => m.tag)).toEqual(["0000_init", "0001_delivery_lease", "0002_trusted_networks", "0003_pending_index"]);
  await applyMigrations(old, before);
  await old.execute({ sql: "INSERT INTO routes (domain, url, position) VALUES (?, ?, 0), ('mx.test', 'mx', 0), ('plain.test', 'smtp://relay.example:25', 0)", args: ["*", `smtp://provider-user:${ENCODED}@relay.example:587?tls=required`] });
  old.close();
  expect(storedBytes(path)).toContain(ENCODED);

  const box = await createSecretBox(generateSecretKey());
  database = await openDatabase(`file:${path}`, undefined, box);
  const rows = (await database.client.execute("SELECT domain, url, secret FROM routes ORDER BY id")).rows.map((r) => ({ domain: r.domain, url: r.url, secret: r.secret }));
  expect(rows[0]).toMatchObject({ domain: "*", url: "smtp://provider-user@relay.example:587?tls=required" });
  expect(isSealed(String(rows[0]!.secret))).toBe(true);
  expect(rows.slice(1)).toEqual([
    { domain: "mx.test", url: "mx", secret: null },
    { domain: "plain.test", url: "smtp://relay.example:25", secret: null },
  ]);
  const [route] = await routesFor(database.db, "any.test", "mx", box);
  expect(route).toMatchObject({ kind: "relay", target: { auth: { username: "provider-user", password: PASSWORD } } });
  // Idempotent: the next open finds nothing to do and the sealed value stays as it is.
  expect(await applyDataFixups(database.client, database.db, box)).toEqual({ routePasswordsSealed: 0 });
  expect((await database.client.execute("SELECT secret FROM routes WHERE domain = '*'")).rows[0]!.secret).toBe(rows[0]!.secret);
  database.close();
  database = null;
  expect(storedBytes(path)).not.toContain(ENCODED);
  expect(storedBytes(path)).not.toContain(PASSWORD);
});

test("shown URLs hide the whole credentials, even a password holding @ or :", async () => {
  const { maskRoutePassword } = await import("../../../src/secrets/route-passwords.ts");
  expect(maskRoutePassword("smtps://user:p@ss:w@relay.example:465?tls_verify=false")).toBe("smtps://***@relay.example:465?tls_verify=false");
  expect(maskRoutePassword("smtp://user@relay.example:25")).toBe("smtp://user@relay.example:25");
  expect(maskRoutePassword("mx")).toBe("mx");
});
