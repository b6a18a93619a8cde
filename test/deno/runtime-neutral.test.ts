/**
 * The runtime-neutral core under Deno (`deno test -A test/deno/`): the SMTP session, the
 * DATA decoder, and the gateway's HTTP app end to end on a real libSQL file.
 */
import assert from "node:assert/strict";
import { createClient } from "@libsql/client";
import { DotDecoder } from "../../src/smtp/dot-decoder.ts";
import { SmtpSession } from "../../src/smtp/session.ts";
import { databaseFrom } from "../../src/db/client.ts";
import { applyMigrations } from "../../src/db/migrate.ts";
import { createApp } from "../../src/gateway/app.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { createMetrics } from "../../src/gateway/metrics.ts";
import { createSmtpHandler } from "../../src/gateway/smtp-handler.ts";
import { addAccount, addApiKey, allowSender } from "../../src/admin/accounts.ts";
import { MemoryHandler } from "../support/memory-handler.ts";

declare const Deno: { test(name: string, fn: () => Promise<void> | void): void; makeTempDir(): Promise<string>; remove(p: string, o: { recursive: boolean }): Promise<void> };

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("DATA decoder refuses <LF>.<CR><LF> smuggling", () => {
  const d = new DotDecoder(10_000);
  d.feed(enc("a\n.\r\nMAIL FROM:<x@y.z>\r\n"));
  assert.equal(d.done, false);
  d.feed(enc("\r\n.\r\n"));
  assert.equal(d.done, true);
  assert.equal(d.problem, "bare-line-ending");
});

Deno.test("SMTP session accepts a message through a handler", async () => {
  const handler = new MemoryHandler();
  let out = "";
  const s = new SmtpSession(
    { hostname: "deno.test", maxMessageBytes: 10_000, maxRecipients: 5, maxErrors: 5, tlsAvailable: false, allowInsecureAuth: true },
    handler,
    { send: (t) => (out += t), startTls: () => Promise.reject(new Error("no TLS")), close: () => {} },
    { remoteAddress: "192.0.2.1", remotePort: 1, localPort: 25, tls: null },
  );
  s.start();
  await s.receive(enc("EHLO c\r\n"));
  await s.receive(enc(`AUTH PLAIN ${btoa("\0alice\0secret")}\r\n`));
  await s.receive(enc("MAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nDATA\r\n"));
  await s.receive(enc("Subject: deno\r\n\r\nhi\r\n.\r\n"));
  assert.match(out, /250 2\.0\.0 Ok: queued as /);
  assert.equal(handler.stored.length, 1);
});

Deno.test("the gateway app takes a JSON message into libSQL", async () => {
  const dir = await Deno.makeTempDir();
  const database = databaseFrom(createClient({ url: `file:${dir}/deno.db` }));
  try {
    await applyMigrations(database.client);
    await addAccount(database.db, "acme", { perMinute: null, perDay: null });
    await allowSender(database.db, "acme", "example.com");
    const key = await addApiKey(database.db, "acme");
    const metrics = createMetrics(database.db);
    const gateway = new Gateway({ db: database.db, sql: database.sql, maxMessageBytes: 1_000_000, metrics });
    const app = createApp({ gateway, metrics, smtpHandler: createSmtpHandler(gateway, () => {}), hostname: "deno.test", maxMessageBytes: 1_000_000, log: () => {} });
    const res = await app.fetch(
      new Request("http://deno.test/v1/messages", {
        method: "POST",
        headers: { authorization: `Bearer ${key}` },
        body: JSON.stringify({ from: "a@example.com", to: ["b@dest.test"], subject: "deno", text: "from Deno" }),
      }),
    );
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    const row = await database.client.execute({ sql: "SELECT size FROM messages WHERE id = ?", args: [id] });
    assert.ok(Number(row.rows[0]!.size) > 100);
    const bad = await app.fetch(new Request("http://deno.test/v1/messages", { method: "POST", headers: { authorization: `Bearer ${key}` }, body: "{" }));
    assert.equal(bad.status, 400);
  } finally {
    database.close();
    await Deno.remove(dir, { recursive: true });
  }
});
