import { afterEach, expect, test } from "bun:test";
import { createClient, type Client, type InStatement } from "@libsql/client";
import { createApp } from "../../../src/gateway/app.ts";
import { createSmtpHandler } from "../../../src/gateway/smtp-handler.ts";
import { GroupCommit } from "../../../src/db/group-commit.ts";
import { insertMessage } from "../../../src/queue/enqueue.ts";
import { applyMigrations } from "../../../src/db/migrate.ts";
import { MIGRATIONS } from "../../../src/db/migrations.gen.ts";
import { purgeFinished } from "../../../src/queue/retention.ts";
import { gatewayFixture, type GatewayFixture } from "../policy/gateway-fixture.ts";

let fx: GatewayFixture | undefined;
afterEach(() => fx?.close());

/** A libSQL client that remembers the text of every statement it runs. */
function recording(url: string): Client & { statements: string[] } {
  const inner = createClient({ url });
  const statements: string[] = [];
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === "statements") return statements;
      if (prop === "execute") {
        return (stmt: InStatement, ...rest: unknown[]) => {
          statements.push(typeof stmt === "string" ? stmt : stmt.sql);
          return (target.execute as (...a: unknown[]) => unknown)(stmt, ...rest);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  }) as Client & { statements: string[] };
}

async function setup(metricsToken?: string) {
  let rec: (Client & { statements: string[] }) | undefined;
  fx = await gatewayFixture({}, (url) => (rec = recording(url)));
  const app = createApp({
    gateway: fx.gateway,
    metrics: fx.metrics,
    smtpHandler: createSmtpHandler(fx.gateway, () => {}),
    hostname: "relay.test",
    maxMessageBytes: 1_000_000,
    metricsToken,
    log: () => {},
  });
  return { app, rec: rec!, client: fx.client };
}

test("/healthz: many requests in a row make one database query", async () => {
  const { app, rec } = await setup();
  rec.statements.length = 0;
  const answers = await Promise.all(Array.from({ length: 50 }, () => app.request("/healthz")));
  for (let i = 0; i < 50; i++) expect((await app.request("/healthz")).status).toBe(200);
  expect(answers.every((r) => r.status === 200)).toBe(true);
  expect(rec.statements.filter((s) => /select 1/i.test(s)).length).toBe(1);
});

test("/metrics: queue depth follows accepts, outcomes and purges without reading recipients", async () => {
  const { app, rec, client } = await setup();
  const writer = new GroupCommit(client);
  const msg = (id: string, n: number) => ({
    id, accountId: "acct", source: "smtp" as const, mailFrom: "a@example.com", raw: new TextEncoder().encode("x\r\n"),
    recipients: Array.from({ length: n }, (_, i) => ({ address: `r${i}@d.test`, domain: "d.test" })), smtputf8: false,
  });
  await writer.write((sql) => insertMessage(sql, msg("m1", 3), 1_000));
  await writer.write((sql) => insertMessage(sql, msg("m2", 2), 1_000));
  await client.execute("UPDATE recipients SET state = 'delivered' WHERE message_id = 'm1'");
  await client.execute("UPDATE recipients SET state = 'deferred' WHERE message_id = 'm2' AND address = 'r0@d.test'");
  const gauge = async () => {
    rec.statements.length = 0;
    const text = await (await app.request("/metrics")).text();
    expect(rec.statements.some((s) => /queue_counts/.test(s))).toBe(true);
    expect(rec.statements.some((s) => /recipients/i.test(s))).toBe(false);
    return Object.fromEntries([...text.matchAll(/^smarthost_queue_recipients\{state="(\w+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  };
  expect(await gauge()).toEqual({ queued: 1, deferred: 1, held: 0, delivered: 3, bounced: 0, deleted: 0, canceled: 0 });
  expect(await purgeFinished(writer, 2_000)).toBe(1);
  expect(await gauge()).toEqual({ queued: 1, deferred: 1, held: 0, delivered: 0, bounced: 0, deleted: 0, canceled: 0 });
  // The kept counts are what counting the table would say.
  const counted = (await client.execute("SELECT state, count(*) AS n FROM recipients GROUP BY state")).rows.map((r) => [r.state, Number(r.n)]);
  expect(Object.fromEntries(counted)).toEqual({ queued: 1, deferred: 1 });
});

test("the triggers' migration counts the recipients a database already holds, then the triggers count the rest", async () => {
  const client = createClient({ url: ":memory:" });
  const before = MIGRATIONS.findIndex((m) => m.tag.startsWith("0014_"));
  await applyMigrations(client, MIGRATIONS.slice(0, before));
  await client.execute("INSERT INTO accounts (id, name, per_minute, per_day, created_at) VALUES ('acct', 'acct', 10, 10, 0)");
  await client.execute("INSERT INTO messages (id, account_id, source, mail_from, raw, size, created_at) VALUES ('m', 'acct', 'smtp', '', x'00', 1, 0)");
  await client.execute("INSERT INTO recipients (message_id, address, domain, state, next_attempt_at, updated_at) VALUES ('m', 'a@d.test', 'd.test', 'queued', 0, 0), ('m', 'b@d.test', 'd.test', 'bounced', 0, 0)");
  await applyMigrations(client);
  const counts = async () => (await client.execute("SELECT state, n FROM queue_counts WHERE n <> 0 ORDER BY state")).rows.map((r) => [r.state, Number(r.n)]);
  expect(await counts()).toEqual([["bounced", 1], ["queued", 1]]);
  await client.execute("UPDATE recipients SET state = 'delivered' WHERE address = 'a@d.test'");
  await client.execute("INSERT INTO recipients (message_id, address, domain, state, next_attempt_at, updated_at) VALUES ('m', 'c@d.test', 'd.test', 'queued', 0, 0)");
  await client.execute("DELETE FROM recipients WHERE address = 'b@d.test'");
  expect(await counts()).toEqual([["delivered", 1], ["queued", 1]]);
  client.close();
});

test("/metrics wants the token when one is set", async () => {
  const { app } = await setup("t0ken-for-metrics");
  expect((await app.request("/metrics")).status).toBe(401);
  expect((await app.request("/metrics", { headers: { authorization: "Bearer nope" } })).status).toBe(401);
  expect((await app.request("/metrics", { headers: { authorization: "Bearer t0ken-for-metrics" } })).status).toBe(200);
});
