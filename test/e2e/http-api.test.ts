/** The HTTP API on the running relay: submissions, precise 4xx JSON errors, status, health, metrics. */
import { describe, expect, test } from "bun:test";
import { addTenant, openDb, useRelay } from "../support/relay.ts";

const f = useRelay({ SMARTHOST_MAX_MESSAGE_BYTES: "100000" });

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${f.relay.http}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${f.tenant.apiKey}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

async function storedRaw(id: string): Promise<string> {
  const db = openDb(f.relay.dbUrl);
  const row = (await db.execute({ sql: "SELECT raw FROM messages WHERE id = ?", args: [id] })).rows[0]!;
  db.close();
  return Buffer.from(row.raw as ArrayBuffer).toString("utf8");
}

const ok = { from: "Alice <alice@example.com>", to: ["bob@dest.test"], subject: "Hello", text: "plain", html: "<p>html</p>" };

describe("POST /v1/messages", () => {
  test("builds MIME and queues every recipient; Bcc only in the envelope", async () => {
    const r = await post("/v1/messages", {
      ...ok,
      cc: ["Carol <carol@dest.test>"],
      bcc: ["dave@hidden.test"],
      reply_to: "replies@example.com",
      headers: { "X-Campaign": "autumn" },
      attachments: [{ filename: "a.txt", content_type: "text/plain", content: Buffer.from("attached!").toString("base64") }],
    });
    expect(r.status).toBe(202);
    expect(r.body.status).toBe("queued");
    const raw = await storedRaw(r.body.id);
    expect(raw).toContain("From: Alice <alice@example.com>");
    expect(raw).toContain("Cc: Carol <carol@dest.test>");
    expect(raw).toContain("X-Campaign: autumn");
    expect(raw).toContain("multipart/alternative");
    expect(raw).toContain('filename=a.txt');
    // No Bcc field (a random MIME boundary may well contain the letters "bcc").
    expect(raw).not.toMatch(/^bcc:/im);
    expect(raw).not.toContain("hidden.test");
    expect(raw).not.toMatch(/[^\r]\n/);
    const s = await fetch(`${f.relay.http}/v1/messages/${r.body.id}`, { headers: { authorization: `Bearer ${f.tenant.apiKey}` } });
    const view = (await s.json()) as { recipients: { address: string }[]; events: { type: string }[] };
    expect(view.recipients.map((x) => x.address)).toEqual(["bob@dest.test", "carol@dest.test", "dave@hidden.test"]);
    expect(view.events[0]!.type).toBe("accepted");
  });

  const injections: [string, Record<string, unknown>, string][] = [
    ["CRLF in subject", { subject: "hi\r\nBcc: x@evil.test" }, "subject"],
    ["LF in a header value", { headers: { "X-A": "a\nB: c" } }, "headers.X-A"],
    ["NUL in subject", { subject: "a\u0000b" }, "subject"],
    ["U+2028 in subject", { subject: "a\u2028b" }, "subject"],
    ["U+0085 in subject", { subject: "a\u0085b" }, "subject"],
    ["CR in a from address", { from: "a@example.com\rBcc: x@evil.test" }, "from"],
    ["newline in a file name", { attachments: [{ filename: "a\r\n.txt", content: "YQ==" }] }, "attachments[0].filename"],
    ["a colon in a header name", { headers: { "X-A: b": "c" } }, "headers"],
    ["a Bcc custom header", { headers: { Bcc: "x@evil.test" } }, "headers"],
    ["a Received custom header", { headers: { Received: "from x" } }, "headers"],
    ["a DKIM-Signature custom header", { headers: { "DKIM-Signature": "v=1" } }, "headers"],
  ];
  for (const [name, patch, field] of injections) {
    test(`refuses ${name} with 400 naming the field`, async () => {
      const r = await post("/v1/messages", { ...ok, ...patch });
      expect(r.status).toBe(400);
      expect(r.body.error.field).toStartWith(field);
    });
  }

  test("refuses invalid JSON, unknown fields, bad addresses, bad base64", async () => {
    expect((await post("/v1/messages", "{nope")).body.error.code).toBe("invalid_json");
    const unknown = await post("/v1/messages", { ...ok, tos: ["x@y.z"] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain("tos");
    const bad = await post("/v1/messages", { ...ok, to: ["bob@dest.test", "not an address"] });
    expect(bad.body.error.field).toBe("to[1]");
    const b64 = await post("/v1/messages", { ...ok, attachments: [{ filename: "a", content: "@@@" }] });
    expect(b64.body.error.field).toBe("attachments[0].content");
    expect((await post("/v1/messages", { ...ok, to: [] })).body.error.code).toBe("no_recipients");
  });

  test("401 without a key, 403 for a sender the account may not use", async () => {
    const none = await fetch(`${f.relay.http}/v1/messages`, { method: "POST", body: JSON.stringify(ok) });
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error.code).toBe("unauthenticated");
    const wrong = await post("/v1/messages", ok, { authorization: "Bearer sh_AAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" });
    expect(wrong.status).toBe(401);
    const r = await post("/v1/messages", { ...ok, from: "someone@not-ours.test" });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("sender_denied");
  });

  test("413 for a message over the size limit", async () => {
    const r = await post("/v1/messages", { ...ok, text: "x".repeat(150_000) });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe("too_large");
  });
});

describe("POST /v1/messages/raw", () => {
  test("queues a raw message with its own envelope, CRLF-normalized", async () => {
    // Its own Date: and Message-ID:, so the relay adds only its Received: (src/mime/submission-fields.ts).
    const raw = "From: alice@example.com\nTo: x@dest.test\nDate: Mon, 7 Dec 2026 08:00:00 +0000\nMessage-ID: <raw@example.com>\nSubject: raw\n\nbody line\n";
    const r = await post("/v1/messages/raw", { mail_from: "bounces@example.com", rcpt_to: ["x@dest.test", "y@dest.test"], raw: Buffer.from(raw).toString("base64") });
    expect(r.status).toBe(202);
    const stored = await storedRaw(r.body.id);
    expect(stored).toMatch(/^Received: from \[127\.0\.0\.1\] \(key \w{8}\)\r\n\tby relay\.test \(smarthost\) with HTTP id \w+;\r\n\t[^\r\n]+\r\nFrom: /);
    expect(stored.slice(stored.indexOf("From: "))).toBe(raw.replace(/\n/g, "\r\n"));
  });

  test("refuses a missing From: header and an empty rcpt_to", async () => {
    const noFrom = await post("/v1/messages/raw", { mail_from: "", rcpt_to: ["x@dest.test"], raw: Buffer.from("Subject: x\r\n\r\nb\r\n").toString("base64") });
    expect(noFrom.status).toBe(400);
    expect(noFrom.body.error.code).toBe("invalid_from");
    const noRcpt = await post("/v1/messages/raw", { mail_from: "", rcpt_to: [], raw: "" });
    expect(noRcpt.body.error.field).toBe("rcpt_to");
  });
});

describe("status, health and metrics", () => {
  test("GET /v1/messages/:id is 404 for an unknown id and for another account's message", async () => {
    const get = async (id: string, key: string) => {
      const r = await fetch(`${f.relay.http}/v1/messages/${id}`, { headers: { authorization: `Bearer ${key}` } });
      return { status: r.status, body: (await r.json()) as Record<string, any> };
    };
    const unknown = await get("NOPE", f.tenant.apiKey);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
    // A message of another account, looked up with this account's key: as if it did not exist.
    const other = await addTenant(f.dir, { account: "status-other", username: "status-other-user" });
    const theirs = await post("/v1/messages", { from: "bob@example.com", to: ["carol@dest.test"], subject: "not yours", text: "private" }, { authorization: `Bearer ${other.apiKey}` });
    expect(theirs.status).toBe(202);
    const foreign = await get(theirs.body.id, f.tenant.apiKey);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(unknown.body);
    const own = await get(theirs.body.id, other.apiKey);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ id: theirs.body.id, mail_from: "bob@example.com", recipients: [{ address: "carol@dest.test" }] });
  });

  test("healthz answers and metrics are Prometheus text", async () => {
    expect((await fetch(`${f.relay.http}/healthz`)).status).toBe(200);
    const text = await (await fetch(`${f.relay.http}/metrics`)).text();
    expect(text).toMatch(/smarthost_messages_accepted_total\{source="http"\} \d+/);
    expect(text).toMatch(/smarthost_submissions_rejected_total\{reason="sender_denied"\} \d+/);
    expect(text).toMatch(/smarthost_queue_recipients\{state="queued"\} \d+/);
  });
});
