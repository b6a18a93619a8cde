/**
 * Route passwords at rest, end to end: a database written before passwords were sealed
 * (a route with the password in its URL), `smarthost migrate`, then the relay delivering
 * through that route to a real upstream that demands AUTH. The password is then nowhere:
 * not in the database file, the logs, `smarthost queue`, the message's events or errors.
 */
import { afterAll, expect, test } from "bun:test";
import { createClient } from "@libsql/client";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { applyMigrations } from "../../src/db/migrate.ts";
import { MIGRATIONS } from "../../src/db/migrations.gen.ts";
import { addTenant, cli, cliOk, openDb, removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { smtplibSend } from "../support/python.ts";
import { waitFor } from "../support/wait.ts";

const PASSWORD = "pr0vider-Pass/with:signs";
const ENCODED = encodeURIComponent(PASSWORD);
const dir = tempDir();
const dbPath = join(dir, "smarthost.db");
let upstream: Upstream | undefined;
let relay: Relay | undefined;
afterAll(async () => {
  await relay?.stop();
  await upstream?.close();
  removeDir(dir);
});

const storedBytes = () => [dbPath, `${dbPath}-wal`].filter(existsSync).map((p) => readFileSync(p).toString("latin1")).join("");

test("a clear-text route password from before is sealed by migrate, and delivery still authenticates with it", async () => {
  upstream = await startUpstream({
    auth: { username: "provider-user", password: PASSWORD },
    onRcpt: (a) => (a.startsWith("later@") ? { code: 451, message: "4.2.0 try later" } : null),
  });
  const ca = join(dir, "upstream-ca.pem");
  writeFileSync(ca, upstream.cert);

  // The database as the previous version wrote it.
  const old = createClient({ url: `file:${dbPath}` });
  await old.execute("PRAGMA journal_mode=WAL");
  await applyMigrations(old, MIGRATIONS.filter((m) => m.tag < "0004_route_secrets"));
  await old.execute({ sql: "INSERT INTO routes (domain, url, position) VALUES ('*', ?, 0)", args: [`smtp://provider-user:${ENCODED}@127.0.0.1:${upstream.port}?tls=required`] });
  old.close();
  expect(storedBytes()).toContain(ENCODED);

  const migrate = await cli(dir, ["migrate"]);
  expect(migrate.code).toBe(0);
  const db = openDb(`file:${dbPath}`);
  const [row] = (await db.execute("SELECT url, secret FROM routes")).rows;
  db.close();
  expect(row!.url).toBe(`smtp://provider-user@127.0.0.1:${upstream.port}?tls=required`);
  expect(String(row!.secret)).toStartWith("enc:v1:");
  expect(storedBytes()).not.toContain(ENCODED);
  // The key it was sealed with was made on this first start, readable by the owner alone.
  expect(statSync(join(dir, "data", "secret.key")).mode & 0o777).toBe(0o600);
  expect(statSync(join(dir, "data")).mode & 0o777).toBe(0o700);

  const tenant = await addTenant(dir);
  relay = await startRelay(dir, { SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_UPSTREAM_CA_FILE: ca });
  const reply = await smtplibSend(relay.smtpPort, tenant.username, tenant.password, "app@example.com", ["bob@dest.test", "later@dest.test"], "From: app@example.com\r\nSubject: sealed route\r\n\r\nhello\r\n");
  const id = /queued as (\S+)/.exec(reply)?.[1];
  if (!id) throw new Error(`not queued: ${reply}`);
  await waitFor("delivery through the authenticated route", () => upstream!.received.length >= 1 || undefined);
  expect(upstream.received[0]!.user).toBe("provider-user");
  expect(upstream.received[0]!.rcptTo).toEqual(["bob@dest.test"]);

  const status = await waitFor("both outcomes recorded", async () => {
    const res = await fetch(`${relay!.http}/v1/messages/${id}`, { headers: { authorization: `Bearer ${tenant.apiKey}` } });
    const text = await res.text();
    return text.includes('"deferred"') && text.includes('"delivered"') ? text : undefined;
  });
  const queue = await cli(dir, ["queue"]);
  expect(queue.stdout).toContain("later@dest.test");
  for (const where of [status, queue.stdout, queue.stderr, relay.logs(), migrate.stdout, migrate.stderr, storedBytes()]) {
    expect(where).not.toContain(PASSWORD);
    expect(where).not.toContain(ENCODED);
  }
});

test("route add with a password writes it sealed, shows none of it; a bad URL's error does not repeat it", async () => {
  const added = await cli(dir, ["route", "add", "other.test", `smtps://provider-user:${ENCODED}@127.0.0.1:465`]);
  expect(added.code).toBe(0);
  // Unencoded @ in the password (URL parsers split at the last @): none of it is printed.
  const raw = await cli(dir, ["route", "add", "raw.test", "smtp://provider-user:half@other-half@127.0.0.1:25"]);
  expect(raw.code).toBe(0);
  expect(raw.stdout).toContain("smtp://***@127.0.0.1:25");
  expect(raw.stdout).not.toContain("half");
  expect(storedBytes()).not.toContain("other-half");
  const bad = await cli(dir, ["route", "add", "other.test", `smtp://provider-user:${ENCODED}@127.0.0.1:465/not-a-path`]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("not a route URL");
  for (const where of [added.stdout, added.stderr, bad.stdout, bad.stderr, storedBytes()]) {
    expect(where).not.toContain(PASSWORD);
    expect(where).not.toContain(ENCODED);
  }
});

test("a node whose key does not open a route's password keeps the mail queued and says why", async () => {
  await relay!.stop();
  const tenantKey = (await cliOk(dir, ["key", "add", "acme"])).trim();
  const before = upstream!.received.length;
  relay = await startRelay(dir, { SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_SECRET_KEY: Buffer.alloc(32, 9).toString("base64") });
  const res = await fetch(`${relay.http}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${tenantKey}` },
    body: JSON.stringify({ from: "app@example.com", to: ["carol@dest.test"], subject: "wrong key", text: "waits" }),
  });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  const line = await waitFor("the refusal in the log", () => relay!.logs().split("\n").find((l) => l.includes('"delivery_error"') && l.includes(id)));
  expect(line).toContain("does not open with this node's SMARTHOST_SECRET_KEY");
  expect(line).not.toContain(PASSWORD);
  const status = (await (await fetch(`${relay.http}/v1/messages/${id}`, { headers: { authorization: `Bearer ${tenantKey}` } })).json()) as { status: string };
  expect(status.status).toBe("queued");
  expect(upstream!.received.length).toBe(before);
});
