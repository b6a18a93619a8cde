/**
 * Hop count (RFC 5321 §6.3) and the header size limit on the running relay, over SMTP
 * (nodemailer) and the HTTP raw route: the same refusal from the gateway for both.
 */
import { describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { openDb, useRelay } from "../support/relay.ts";

const f = useRelay();

const received = (n: number) =>
  Array.from({ length: n }, (_, i) => `Received: from hop${i}.test by hop${i + 1}.test;\r\n\tSun, 29 Nov 2026 07:00:00 +0000\r\n`).join("");
const message = (header: string) => `${header}From: app@example.com\r\nTo: someone@dest.test\r\nSubject: trace\r\n\r\nhello\r\n`;
// ~200 KiB of header fields, each line well under 998 octets.
const bigHeader = `X-Filler: ${"x".repeat(88)}\r\n`.repeat(2048);

async function messageCount(): Promise<number> {
  const db = openDb(f.relay.dbUrl);
  try {
    return Number((await db.execute("SELECT count(*) AS n FROM messages")).rows[0]!.n);
  } finally {
    db.close();
  }
}

/** Sends `raw` over STARTTLS + AUTH; the server's final reply (or its refusal). */
async function smtpSend(raw: string): Promise<string> {
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: f.relay.smtpPort,
    requireTLS: true,
    auth: { user: f.tenant.username, pass: f.tenant.password },
    tls: { rejectUnauthorized: false },
  });
  try {
    const info = await transport.sendMail({ envelope: { from: "app@example.com", to: ["someone@dest.test"] }, raw });
    return info.response;
  } catch (err) {
    return String((err as { response?: string }).response ?? err);
  } finally {
    transport.close();
  }
}

async function httpRaw(raw: string): Promise<{ status: number; body: { error?: { code: string; message: string } } }> {
  const res = await fetch(`${f.relay.http}/v1/messages/raw`, {
    method: "POST",
    headers: { authorization: `Bearer ${f.tenant.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ mail_from: "app@example.com", rcpt_to: ["someone@dest.test"], raw: Buffer.from(raw).toString("base64") }),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

describe("hop count", () => {
  test("SMTP: 101 Received: fields are refused with 554 5.4.6, nothing stored", async () => {
    const before = await messageCount();
    expect(await smtpSend(message(received(101)))).toStartWith("554 5.4.6 Too many hops");
    expect(await messageCount()).toBe(before);
  });

  test("SMTP: 48 Received: fields (49 with the relay's own) are accepted", async () => {
    expect(await smtpSend(message(received(48)))).toStartWith("250 2.0.0 Ok: queued as");
  });

  test("HTTP raw: 49 Received: fields (50 with the relay's own) are refused with 400 and a JSON error; 48 are accepted", async () => {
    const refused = await httpRaw(message(received(49)));
    expect(refused.status).toBe(400);
    expect(refused.body.error!.code).toBe("too_many_hops");
    expect(refused.body.error!.message).toStartWith("Too many hops");
    expect((await httpRaw(message(received(101)))).status).toBe(400);
    expect((await httpRaw(message(received(48)))).status).toBe(202);
  });
});

describe("header size", () => {
  test("SMTP: a 200 KiB header block is refused with 552 5.3.4", async () => {
    const before = await messageCount();
    expect(await smtpSend(message(bigHeader))).toStartWith("552 5.3.4 Message header exceeds fixed limit of 102400 octets");
    expect(await messageCount()).toBe(before);
  });

  test("HTTP raw: a 200 KiB header block is refused with 413 and a JSON error", async () => {
    const r = await httpRaw(message(bigHeader));
    expect(r.status).toBe(413);
    expect(r.body.error).toEqual({ code: "header_too_large", message: "Message header exceeds fixed limit of 102400 octets" });
  });
});
