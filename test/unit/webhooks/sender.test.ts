/** The webhook sender against a real libSQL file, with the clock, DNS and fetch injected. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createClient, type Client } from "@libsql/client";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { applyMigrations } from "../../../src/db/migrate.ts";
import { appendEvent } from "../../../src/events/append.ts";
import { GroupCommit } from "../../../src/db/group-commit.ts";
import { createSecretBox, generateSecretKey, type SecretBox } from "../../../src/secrets/cipher.ts";
import { addEndpoint } from "../../../src/webhooks/endpoints.ts";
import { WebhookSender, type FetchLike } from "../../../src/webhooks/sender.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

let dir = "";
let client: Client;
let writer: GroupCommit;
let box: SecretBox;
let now = 0;
let calls: { url: string; init: RequestInit }[] = [];
let answer: (n: number) => Response | Promise<Response> = () => new Response("ok");
let addresses = ["93.184.216.34"];

const fetchStub: FetchLike = async (url, init) => {
  calls.push({ url, init });
  return answer(calls.length);
};

function sender(extra: { timeoutMs?: number } = {}): WebhookSender {
  return new WebhookSender({
    sql: client,
    writer,
    secrets: box,
    log: () => {},
    now: () => now,
    network: { resolveHost: async () => addresses, post: fetchStub },
    config: { allowPrivate: false, pollMs: 10, ...extra },
  });
}

async function endpoint(): Promise<{ id: string; secret: string }> {
  const r = await writer.write((sql) => addEndpoint(sql, box, "acct", { url: "https://hooks.example.com/in" }, false, now));
  return { id: r.endpoint.id, secret: r.secret };
}

const event = () => writer.write((sql) => appendEvent(sql, { accountId: "acct", type: "message.delivered", messageId: "M1", data: { message_id: "M1", recipient: "a@b.test" }, now }));
const delivery = async () => (await client.execute("SELECT state, attempts, next_attempt_at FROM webhook_deliveries")).rows[0]!;
const attempts = async () => (await client.execute("SELECT status, response FROM webhook_attempts ORDER BY id")).rows;

beforeEach(async () => {
  dir = tempDir();
  client = createClient({ url: `file:${join(dir, "w.db")}` });
  await applyMigrations(client);
  await client.execute("INSERT INTO accounts (id, name, created_at) VALUES ('acct', 'acme', 0)");
  writer = new GroupCommit(client);
  box = await createSecretBox(generateSecretKey());
  // standardwebhooks checks the timestamp against the real clock.
  now = Date.now();
  calls = [];
  answer = () => new Response("ok");
  addresses = ["93.184.216.34"];
});
afterEach(() => {
  client?.close();
  if (dir) removeDir(dir);
});

describe("webhook sender", () => {
  test("signs so standardwebhooks verifies; body is {type, timestamp, data}; no redirects followed", async () => {
    const { secret } = await endpoint();
    const id = await event();
    expect(await sender().drainOnce()).toBe(1);
    expect(calls).toHaveLength(1);
    const { init } = calls[0]!;
    expect(init.redirect).toBe("manual");
    const headers = init.headers as Record<string, string>;
    expect(headers["webhook-id"]).toBe(`evt_${id}`);
    const payload = new Webhook(secret).verify(init.body as string, headers);
    expect(payload).toMatchObject({ type: "message.delivered", data: { message_id: "M1", recipient: "a@b.test" } });
    expect((await delivery()).state).toBe("delivered");
  });

  test("non-2xx retries on the schedule; Retry-After on 503 wins; a 3xx is a failure", async () => {
    await endpoint();
    await event();
    const start = now;
    answer = () => new Response("busy", { status: 503, headers: { "retry-after": "120" } });
    await sender().drainOnce();
    expect(await delivery()).toMatchObject({ state: "pending", attempts: 1, next_attempt_at: start + 120_000 });
    now += 120_000;
    answer = () => new Response(null, { status: 302, headers: { location: "https://elsewhere.example/" } });
    await sender().drainOnce();
    // The second wait in the schedule: 5 minutes.
    expect(await delivery()).toMatchObject({ state: "pending", attempts: 2, next_attempt_at: now + 300_000 });
    expect(await sender().drainOnce()).toBe(0);
    expect((await attempts()).map((a) => a.status)).toEqual([503, 302]);
    expect((await attempts())[0]!.response).toBe("busy");
  });

  test("gives up after the last retry", async () => {
    await endpoint();
    await event();
    answer = () => new Response("no", { status: 500 });
    const s = new WebhookSender({ sql: client, writer, secrets: box, log: () => {}, now: () => now, network: { resolveHost: async () => addresses, post: fetchStub }, config: { allowPrivate: false, pollMs: 10, retrySeconds: [1, 1] } });
    for (let i = 0; i < 3; i++) {
      await s.drainOnce();
      now += 1_000;
    }
    expect(await delivery()).toMatchObject({ state: "failed", attempts: 3 });
    expect(await s.drainOnce()).toBe(0);
  });

  test("each attempt is recorded as one plan (one request to a remote server), never a transaction", async () => {
    await endpoint();
    await event();
    await event();
    const counted = { transactions: 0, batches: 0 };
    const counting = {
      execute: (stmt: Parameters<Client["execute"]>[0]) => client.execute(stmt),
      transaction: (mode: "write") => (counted.transactions++, client.transaction(mode)),
      batch: (stmts: Parameters<Client["batch"]>[0], mode: "write") => (counted.batches++, client.batch(stmts, mode)),
    };
    writer = new GroupCommit(counting);
    answer = (n) => new Response(n === 1 ? "ok" : "down", { status: n === 1 ? 200 : 503 });
    expect(await sender().drainOnce()).toBe(2);
    expect(counted.transactions).toBe(0);
    expect((await client.execute("SELECT state, attempts FROM webhook_deliveries ORDER BY id")).rows.map((r) => [r.state, Number(r.attempts)]).sort()).toEqual([["delivered", 1], ["pending", 1]]);
    expect((await client.execute("SELECT count(*) AS n FROM webhook_attempts")).rows[0]!.n).toBe(2);
  });

  test("an endpoint failing for 3 days is disabled, with a webhook.disabled event", async () => {
    const { id } = await endpoint();
    await event();
    answer = () => new Response("down", { status: 500 });
    const s = sender();
    await s.drainOnce();
    now += 3 * 86_400_000;
    await s.drainOnce();
    const e = (await client.execute({ sql: "SELECT enabled, disabled_reason FROM webhook_endpoints WHERE id = ?", args: [id] })).rows[0]!;
    expect(e).toMatchObject({ enabled: 0, disabled_reason: "failing for 3 days" });
    const ev = (await client.execute("SELECT type, data FROM account_events WHERE type = 'webhook.disabled'")).rows;
    expect(ev).toHaveLength(1);
    expect(JSON.parse(String(ev[0]!.data))).toEqual({ webhook_id: id, url: "https://hooks.example.com/in", reason: "failing for 3 days" });
    // Its pending delivery waits, untouched, for the endpoint to be enabled again.
    now += 86_400_000;
    expect(await s.drainOnce()).toBe(0);
  });

  test("a destination resolving to a private address is not contacted", async () => {
    await endpoint();
    await event();
    addresses = ["10.0.0.7"];
    await sender().drainOnce();
    expect(calls).toHaveLength(0);
    expect((await attempts())[0]).toMatchObject({ status: null });
    expect(String((await attempts())[0]!.response)).toBe("hooks.example.com resolves to a non-public address; refused");
    expect((await delivery()).state).toBe("pending");
  });

  test("no answer within the timeout counts as a failed attempt", async () => {
    await endpoint();
    await event();
    answer = () => new Promise<Response>((_, reject) => calls.at(-1)!.init.signal!.addEventListener("abort", () => reject(calls.at(-1)!.init.signal!.reason)));
    await sender({ timeoutMs: 50 }).drainOnce();
    expect((await attempts())[0]).toMatchObject({ status: null, response: "no answer within 0.05 s" });
    expect(await delivery()).toMatchObject({ state: "pending", attempts: 1 });
  });
});

describe("event retention", () => {
  test("removes old events with their settled deliveries; keeps recent ones and those still pending", async () => {
    const { purgeOldEvents } = await import("../../../src/events/retention.ts");
    await endpoint();
    const settled = await event();
    await sender().drainOnce();
    answer = () => new Response("no", { status: 500 });
    const pending = await event();
    await sender().drainOnce();
    now += 1000;
    const recent = await event();
    expect(await purgeOldEvents(writer, now)).toBe(1);
    expect((await client.execute("SELECT id FROM account_events ORDER BY id")).rows.map((r) => Number(r.id))).toEqual([pending, recent]);
    expect(Number((await client.execute({ sql: "SELECT count(*) AS n FROM webhook_deliveries WHERE event_id = ?", args: [settled] })).rows[0]!.n)).toBe(0);
    expect(Number((await client.execute("SELECT count(*) AS n FROM webhook_attempts")).rows[0]!.n)).toBe(1);
  });
});
