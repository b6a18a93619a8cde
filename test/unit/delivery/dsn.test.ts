/** The DSN builder (RFC 3464/3462), parsed back with mailparser. */
import { describe, expect, test } from "bun:test";
import { simpleParser } from "mailparser";
import { buildDsn, type Bounced } from "../../../src/delivery/dsn.ts";
import { MAX_RETURNED_HEADERS } from "../../../src/delivery/returned.ts";
import type { StoredMessage } from "../../../src/queue/stored.ts";

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const NOW = new Date("2026-11-29T08:00:00Z");

function original(raw: Uint8Array, ret: string | null = null, mailFrom = "alice@example.com"): StoredMessage {
  return { id: "m1", accountId: "acct", mailFrom, raw, envid: "env-1", ret, smtputf8: false, createdAt: NOW.getTime() - 60_000 };
}

const bounce = (address: string, code: number, enhanced: string | null, text: string): Bounced => ({
  address,
  orcpt: `rfc822;${address}`,
  reply: { code, enhanced, text },
  remoteMta: "mx.dest.test",
  at: NOW.getTime(),
});

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(hay).indexOf(Buffer.from(needle));
}

describe("buildDsn", () => {
  test("RET=FULL returns the original's 8-bit (latin-1) bytes untouched as message/rfc822", async () => {
    const raw = latin1("From: alice@example.com\r\nTo: bob@dest.test\r\nSubject: caf\xe9\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nd\xe9j\xe0 vu \xfc\xdf\r\n");
    const dsn = buildDsn(original(raw, "FULL"), [bounce("bob@dest.test", 550, "5.1.1", "no such user")], "relay.test", NOW)!;
    const at = indexOfBytes(dsn.raw, raw);
    expect(at).toBeGreaterThan(0);
    const head = Buffer.from(dsn.raw.subarray(0, at)).toString("latin1");
    expect(head).toMatch(/Content-Type: message\/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n$/);
    // The part ends right after the original: CRLF then the closing delimiter.
    expect(Buffer.from(dsn.raw.subarray(at + raw.length)).toString("latin1")).toMatch(/^\r\n--=_smarthost_\w+--\r\n$/);
    const parsed = await simpleParser(Buffer.from(dsn.raw));
    const part = parsed.attachments.find((a) => a.contentType === "message/rfc822")!;
    expect(Buffer.compare(part.content, Buffer.from(raw))).toBe(0);
  });

  test("one report for several recipients: each with its own status, generic when the reply had none", async () => {
    const raw = latin1("From: alice@example.com\r\nSubject: many\r\n\r\nbody\r\n");
    const dsn = buildDsn(original(raw), [bounce("a@one.test", 550, "5.1.1", "user unknown"), bounce("b@two.test", 554, null, "Message rejected: Email address is not verified."), bounce("c@three.test", 451, "4.4.7", "Message expired")], "relay.test", NOW)!;
    const text = Buffer.from(dsn.raw).toString("utf8");
    expect(text.match(/^Final-Recipient: /gm)).toHaveLength(3);
    expect(text).toContain("Final-Recipient: rfc822; a@one.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.dest.test\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown");
    expect(text).toContain("Final-Recipient: rfc822; b@two.test\r\nAction: failed\r\nStatus: 5.0.0\r\n");
    expect(text).toContain("Diagnostic-Code: smtp; 554 Message rejected: Email address is not verified.");
    expect(text).toContain("Status: 4.4.7");
    expect(text).toContain("Original-Envelope-Id: env-1");
    expect(dsn.recipients).toEqual([{ address: "alice@example.com", domain: "example.com", notify: "NEVER" }]);
    expect(dsn.mailFrom).toBe("");
    const parsed = await simpleParser(Buffer.from(dsn.raw));
    expect(parsed.headers.get("content-type")).toMatchObject({ value: "multipart/report", params: { "report-type": "delivery-status" } });
    const headers = parsed.attachments.find((a) => a.contentType === "text/rfc822-headers")!;
    expect(headers.content.toString()).toBe("From: alice@example.com\r\nSubject: many\r\n");
  });

  test("a message with no empty line (all 'headers') returns nothing of itself", () => {
    const payload = "X-Payload: " + "attacker text ".repeat(500);
    const raw = latin1(`From: alice@example.com\r\n${payload}\r\n`);
    for (const ret of [null, "HDRS", "FULL"]) {
      const dsn = buildDsn(original(raw, ret), [bounce("bob@dest.test", 550, "5.1.1", "no")], "relay.test", NOW)!;
      const text = Buffer.from(dsn.raw).toString("utf8");
      expect(text).not.toContain("attacker text");
      expect(text).not.toContain("rfc822-headers");
      expect(text).not.toContain("message/rfc822");
    }
  });

  test("returned headers are cut at 64 KiB on a field boundary", async () => {
    const field = (i: number) => `X-Filler-${i}: ${"h".repeat(90)}\r\n\tfolded continuation\r\n`;
    const headerBlock = `From: alice@example.com\r\n${Array.from({ length: 2000 }, (_, i) => field(i)).join("")}`;
    const raw = latin1(`${headerBlock}\r\nbody\r\n`);
    expect(headerBlock.length).toBeGreaterThan(200 * 1024);
    const dsn = buildDsn(original(raw), [bounce("bob@dest.test", 550, "5.1.1", "no")], "relay.test", NOW)!;
    const parsed = await simpleParser(Buffer.from(dsn.raw));
    const part = parsed.attachments.find((a) => a.contentType === "text/rfc822-headers")!.content.toString();
    expect(part.length).toBeLessThanOrEqual(MAX_RETURNED_HEADERS);
    expect(part.length).toBeGreaterThan(MAX_RETURNED_HEADERS - 200);
    expect(headerBlock.startsWith(part)).toBe(true);
    // Whole fields only: the cut falls after a folded continuation, before the next field.
    expect(part).toMatch(/\tfolded continuation\r\n$/);
    expect(dsn.raw.length).toBeLessThan(MAX_RETURNED_HEADERS + 4096);
  });

  test("no DSN for a null-sender message or when nothing bounced", () => {
    const raw = latin1("From: x@example.com\r\n\r\nx\r\n");
    expect(buildDsn(original(raw, null, ""), [bounce("b@dest.test", 550, "5.1.1", "no")], "relay.test", NOW)).toBeNull();
    expect(buildDsn(original(raw), [], "relay.test", NOW)).toBeNull();
  });
});
