/**
 * Batch and scheduled sends on the running relay, delivering to a real smtp-server on
 * loopback: POST /v1/messages/batch (one result per message in order, idempotency per
 * message, counted against the limits per message), and "send_at" (held until then,
 * moved by PATCH and `queue reschedule`, canceled by DELETE and `queue delete`).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addTenant, cli, cliOk, openDb, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { adminClient } from "../support/api.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { waitFor } from "../support/wait.ts";

const ADMIN = "admin-token-for-batch-tests-0123456789abcdef";
let dir: string;
let relay: Relay;
let tenant: Tenant;
let upstream: Upstream;
const admin = adminClient(() => relay.http, ADMIN);

beforeAll(async () => {
  dir = tempDir();
  upstream = await startUpstream({ extra: { closeTimeout: 50 } });
  tenant = await addTenant(dir, { limits: ["--per-day", "1000"] });
  await cliOk(dir, ["route", "add", "*", `smtp://127.0.0.1:${upstream.port}?tls=none`]);
  relay = await startRelay(dir, { SMARTHOST_DELIVERY: "true", SMARTHOST_DELIVERY_POLL_MS: "100", SMARTHOST_MAX_BATCH: "5", SMARTHOST_ADMIN_TOKEN: ADMIN });
});

afterAll(async () => {
  await relay?.stop();
  await upstream?.close();
  if (dir) removeDir(dir);
});

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${relay.http}/v1/messages${path}`, {
    method,
    headers: { authorization: `Bearer ${tenant.apiKey}` },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const message = (to: string, extra: Record<string, unknown> = {}) => ({ from: "app@example.com", to: [to], subject: `to ${to}`, text: "hello", ...extra });
const arrivalOf = (to: string) => upstream.received.find((m) => m.rcptTo.includes(to));
const arrived = (to: string, ms = 20_000) => waitFor(`${to} to arrive upstream`, () => arrivalOf(to), ms);
const perDayUsed = async () => (await admin("GET", "/accounts/acme")).body.usage.per_day.used as number;
const iso = (ms: number) => new Date(ms).toISOString();

async function count(sql: string, args: string[]): Promise<number> {
  const db = openDb(relay.dbUrl);
  try {
    return Number((await db.execute({ sql, args })).rows[0]!.n);
  } finally {
    db.close();
  }
}

describe("POST /v1/messages/batch", () => {
  test("four messages, the third invalid: three ids and one error in order, the three delivered, counted as three", async () => {
    const before = await perDayUsed();
    const r = await api("POST", "/batch", [message("b1@dest.test"), message("b2@dest.test"), message("not an address"), message("b4@dest.test")]);
    expect(r.status).toBe(200);
    expect(r.body.data).toHaveLength(4);
    // Other fields (warnings) may come along; the error is the whole result. (No asymmetric
    // matcher inside toMatchObject: it would stand in for the id read below.)
    for (const i of [0, 1, 3]) expect({ id: typeof r.body.data[i].id, status: r.body.data[i].status, suppressed: r.body.data[i].suppressed }).toEqual({ id: "string", status: "queued", suppressed: [] });
    expect(r.body.data[2]).toEqual({ error: { code: "invalid_address", message: "to[0]: not a valid email address", field: "to[0]" } });
    expect(new Set([0, 1, 3].map((i) => r.body.data[i].id)).size).toBe(3);
    for (const to of ["b1@dest.test", "b2@dest.test", "b4@dest.test"]) await arrived(to);
    expect(await perDayUsed()).toBe(before + 3);
    for (const i of [0, 1, 3]) expect((await api("GET", `/${r.body.data[i].id}`)).body.status).toBe("delivered");
  });

  test("each message is counted on its own: past the account's limit the rest are refused in their place, the others kept", async () => {
    const tight = await addTenant(dir, { account: "tight", username: "tight", limits: ["--per-minute", "2"] });
    const res = await fetch(`${relay.http}/v1/messages/batch`, {
      method: "POST",
      headers: { authorization: `Bearer ${tight.apiKey}` },
      body: JSON.stringify([message("t1@dest.test"), message("t2@dest.test"), message("t3@dest.test")]),
    });
    const data = ((await res.json()) as { data: any[] }).data;
    expect(res.status).toBe(200);
    expect(data.slice(0, 2)).toEqual([expect.objectContaining({ status: "queued" }), expect.objectContaining({ status: "queued" })]);
    expect(data[2].error.code).toBe("rate_limited");
    await arrived("t1@dest.test");
    await arrived("t2@dest.test");
    expect(await count("SELECT count(*) AS n FROM recipients WHERE address = 't3@dest.test'", [])).toBe(0);
  });

  test("idempotency per message: a key repeated in the batch or in a later batch gives the first id, sent once", async () => {
    const batch = [message("i1@dest.test", { idempotency_key: "order-1" }), message("i1@dest.test", { idempotency_key: "order-1", subject: "again" }), message("i2@dest.test", { idempotency_key: "order-2" })];
    const first = await api("POST", "/batch", batch);
    expect(first.status).toBe(200);
    const ids = first.body.data.map((d: { id: string }) => d.id);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
    const again = await api("POST", "/batch", batch);
    expect(again.body.data.map((d: { id: string }) => d.id)).toEqual(ids);
    await arrived("i1@dest.test");
    await arrived("i2@dest.test");
    expect(await count("SELECT count(*) AS n FROM messages WHERE id IN (?, ?)", [ids[0], ids[2]])).toBe(2);
    expect(await count("SELECT count(*) AS n FROM recipients WHERE address IN ('i1@dest.test', 'i2@dest.test')", [])).toBe(2);
  });

  test("over SMARTHOST_MAX_BATCH: 413; not an array or empty: 400; a bad idempotency_key is that message's error", async () => {
    const six = Array.from({ length: 6 }, (_, i) => message(`x${i}@dest.test`));
    expect(await api("POST", "/batch", six)).toEqual({ status: 413, body: { error: { code: "batch_too_large", message: "At most 5 messages in one batch" } } });
    expect((await api("POST", "/batch", message("x@dest.test"))).status).toBe(400);
    expect((await api("POST", "/batch", [])).body.error).toMatchObject({ code: "invalid_field", message: "the batch is empty" });
    expect((await api("POST", "/batch", "[{")).body.error.code).toBe("invalid_json");
    const r = await api("POST", "/batch", [message("k1@dest.test", { idempotency_key: "bad key" })]);
    expect(r.body.data[0].error).toMatchObject({ code: "invalid_field", field: "idempotency_key" });
  });
});

describe('"send_at"', () => {
  test("held until send_at: shown as scheduled, then delivered no earlier", async () => {
    const sendAt = Date.now() + 2500;
    const r = await api("POST", "", message("s1@dest.test", { send_at: iso(sendAt) }));
    expect(r.status).toBe(202);
    expect(typeof r.body.id).toBe("string");
    expect(r.body).toMatchObject({ status: "queued", suppressed: [], send_at: iso(sendAt) });
    const view = (await api("GET", `/${r.body.id}`)).body;
    expect(view).toMatchObject({ status: "queued", send_at: iso(sendAt), recipients: [{ address: "s1@dest.test", state: "queued", next_attempt_at: iso(sendAt), last_reply: `scheduled: not sent before ${iso(sendAt)}` }] });
    const queue = (await cli(dir, ["queue"])).stdout;
    // ID, STATE, ATTEMPTS, NEXT_ATTEMPT, ACCOUNT, FROM, RECIPIENT, LAST_REPLY: one row, cells two spaces or more apart.
    const row = queue.split("\n").find((l) => l.startsWith(`${r.body.id} `))!.split(/ {2,}/);
    expect([row[1], row[2], row[3], row[5], row[6], row[7]]).toEqual(["queued", "0", iso(sendAt), "app@example.com", "s1@dest.test", `scheduled: not sent before ${iso(sendAt)}`]);
    expect((await cli(dir, ["queue", "show", r.body.id])).stdout).toContain(`send_at=${iso(sendAt)}`);
    const got = await arrived("s1@dest.test");
    expect(got.at).toBeGreaterThanOrEqual(sendAt);
    await waitFor("the delivered state", async () => (await api("GET", `/${r.body.id}`)).body.status === "delivered");
  });

  test("the raw route and batch items take send_at too", async () => {
    const sendAt = Date.now() + 1500;
    const raw = Buffer.from("From: app@example.com\r\nTo: s2@dest.test\r\nSubject: raw\r\n\r\nhi\r\n").toString("base64");
    const r = await api("POST", "/raw", { mail_from: "app@example.com", rcpt_to: ["s2@dest.test"], raw, send_at: iso(sendAt) });
    expect(r.body.send_at).toBe(iso(sendAt));
    const b = await api("POST", "/batch", [message("s3@dest.test", { send_at: iso(sendAt) }), message("s4@dest.test", { send_at: "yesterday" })]);
    expect(b.body.data[0].send_at).toBe(iso(sendAt));
    expect(b.body.data[1].error).toMatchObject({ code: "invalid_send_at", field: "send_at" });
    expect((await arrived("s2@dest.test")).at).toBeGreaterThanOrEqual(sendAt);
    expect((await arrived("s3@dest.test")).at).toBeGreaterThanOrEqual(sendAt);
  });

  test("PATCH moves it (earlier here), and answers 409 once it was sent", async () => {
    const r = await api("POST", "", message("p1@dest.test", { send_at: iso(Date.now() + 3_600_000) }));
    const sendAt = Date.now() + 1500;
    const patched = await api("PATCH", `/${r.body.id}`, { send_at: iso(sendAt) });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ send_at: iso(sendAt), recipients: [{ state: "queued", next_attempt_at: iso(sendAt) }] });
    expect(patched.body.events.map((e: { type: string }) => e.type)).toEqual(["accepted", "rescheduled"]);
    expect((await arrived("p1@dest.test")).at).toBeGreaterThanOrEqual(sendAt);
    await waitFor("the delivered state", async () => (await api("GET", `/${r.body.id}`)).body.status === "delivered");
    const late = await api("PATCH", `/${r.body.id}`, { send_at: iso(Date.now() + 60_000) });
    expect(late).toMatchObject({ status: 409, body: { error: { code: "already_sent" } } });
  });

  test("queue reschedule ID --at moves it from the CLI", async () => {
    const r = await api("POST", "", message("c1@dest.test", { send_at: iso(Date.now() + 86_400_000) }));
    const sendAt = Date.now() + 2000;
    expect(await cliOk(dir, ["queue", "reschedule", r.body.id, "--at", iso(sendAt)])).toBe(`rescheduled: ${r.body.id} not sent before ${iso(sendAt)}`);
    expect((await arrived("c1@dest.test")).at).toBeGreaterThanOrEqual(sendAt);
  });

  test("DELETE cancels (state canceled, an event, never delivered); queue delete removes a scheduled one; 409 when nothing is left", async () => {
    const sendAt = Date.now() + 2000;
    const canceled = await api("POST", "", message("d1@dest.test", { send_at: iso(sendAt) }));
    const deleted = await api("POST", "", message("d2@dest.test", { send_at: iso(sendAt) }));
    // Due just after the other two: once it has arrived, they would have too.
    const control = await api("POST", "", message("d3@dest.test", { send_at: iso(sendAt + 300) }));
    expect(control.status).toBe(202);
    const d = await api("DELETE", `/${canceled.body.id}`);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ status: "canceled", recipients: [{ address: "d1@dest.test", state: "canceled", last_reply: "canceled by the sender" }] });
    expect(d.body.events.map((e: { type: string }) => e.type)).toEqual(["accepted", "canceled"]);
    expect(await cliOk(dir, ["queue", "delete", deleted.body.id])).toBe("delete: 1 message(s), 1 recipient(s)");
    await arrived("d3@dest.test");
    expect(arrivalOf("d1@dest.test")).toBeUndefined();
    expect(arrivalOf("d2@dest.test")).toBeUndefined();
    expect((await api("GET", `/${canceled.body.id}`)).body.status).toBe("canceled");
    expect(await api("DELETE", `/${canceled.body.id}`)).toMatchObject({ status: 409, body: { error: { code: "already_sent" } } });
    expect(await api("DELETE", `/${control.body.id}`)).toMatchObject({ status: 409, body: { error: { code: "already_sent" } } });
    expect((await api("DELETE", "/no-such-message")).status).toBe(404);
  });

  test("400 naming send_at: in the past, more than 30 days ahead, or not RFC 3339", async () => {
    const bad = [iso(Date.now() - 3_600_000), iso(Date.now() + 31 * 86_400_000), "tomorrow", "2030-13-01T00:00:00Z", "2030-01-01 09:00", "2030-01-01T09:00:00", 1893456000];
    for (const sendAt of bad) {
      const r = await api("POST", "", message("never@dest.test", { send_at: sendAt }));
      expect(r.status, String(sendAt)).toBe(400);
      expect(r.body.error.field, String(sendAt)).toBe("send_at");
    }
    const r = await api("POST", "", message("never@dest.test", { send_at: iso(Date.now() + 3_600_000) }));
    expect((await api("PATCH", `/${r.body.id}`, { send_at: iso(Date.now() - 3_600_000) })).body.error).toMatchObject({ code: "invalid_send_at", field: "send_at" });
    expect((await api("PATCH", `/${r.body.id}`, { send_at: "2030-02-30T00:00:00Z" })).status).toBe(400);
    expect(await count("SELECT count(*) AS n FROM recipients WHERE address = 'never@dest.test'", [])).toBe(1);
  });
});
