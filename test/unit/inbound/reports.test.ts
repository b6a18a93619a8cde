/** What a DSN (RFC 3464) and an ARF report (RFC 5965) say, as the inbound listener reads them. */
import { describe, expect, test } from "bun:test";
import { readReport, type InboundReport } from "../../../src/inbound/reports.ts";
import { dsnReply } from "../../../src/inbound/act.ts";
import { suppressesRecipient } from "../../../src/suppression/policy.ts";
import { buildArf, buildDsn } from "../../support/reports.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const TOKEN = "b-01jq8zc7h4m2n8p4r6t8v0w2xy-1-abcdefghijklm@bounces.example.com";
const ORIGINAL = [
  `Return-Path: <${TOKEN}>`,
  "Received: from client.test ([127.0.0.1])\r\n\tby relay.test (smarthost) with ESMTPSA id 01JQ8ZC7H4M2N8P4R6T8V0W2XY;\r\n\tMon, 1 Jun 2026 09:59:00 +0000",
  "From: Alice <alice@example.com>",
  "To: Bob <bob@dest.test>",
  "Subject: news",
  "Message-ID: <abc.123@example.com>",
].join("\r\n");

describe("DSN extraction", () => {
  const rows: [string, Parameters<typeof buildDsn>[0], Partial<Extract<InboundReport, { kind: "dsn" }>["recipients"][number]>[]][] = [
    [
      "a hard bounce: address, action, status and the folded diagnostic",
      { to: TOKEN, recipients: [{ finalRecipient: "Gone@dest.test", action: "failed", status: "5.1.1", diagnostic: "550 5.1.1 <gone@dest.test>: Recipient address rejected: no such user", remoteMta: "mx1.dest.test" }] },
      [{ recipient: "gone@dest.test", action: "failed", status: "5.1.1", diagnostic: "550 5.1.1 <gone@dest.test>: Recipient address rejected: no such user", remoteMta: "mx1.dest.test" }],
    ],
    [
      "a delay notice",
      { to: TOKEN, recipients: [{ finalRecipient: "slow@dest.test", action: "delayed", status: "4.4.1", diagnostic: "451 4.4.1 try again later" }] },
      [{ recipient: "slow@dest.test", action: "delayed", status: "4.4.1" }],
    ],
    [
      "several recipients, Original-Recipient kept",
      {
        to: TOKEN,
        recipients: [
          { finalRecipient: "full@dest.test", originalRecipient: "Full.Name@dest.test", action: "failed", status: "5.2.2", diagnostic: "552 5.2.2 mailbox full" },
          { finalRecipient: "ok@dest.test", action: "delivered", status: "2.0.0" },
        ],
      },
      [
        { recipient: "full@dest.test", originalRecipient: "full.name@dest.test", action: "failed", status: "5.2.2" },
        { recipient: "ok@dest.test", action: "delivered", status: "2.0.0" },
      ],
    ],
    [
      "RFC 6533 message/global-delivery-status",
      { to: TOKEN, globalStatus: true, recipients: [{ finalRecipient: "gone@dest.test", action: "failed", status: "5.1.1" }] },
      [{ recipient: "gone@dest.test", action: "failed", status: "5.1.1", diagnostic: null }],
    ],
  ];
  for (const [what, spec, expected] of rows) {
    test(what, async () => {
      const r = await readReport(bytes(buildDsn(spec)));
      expect(r.kind).toBe("dsn");
      if (r.kind !== "dsn") return;
      expect(r.recipients).toHaveLength(expected.length);
      expected.forEach((e, i) => expect(r.recipients[i]).toMatchObject(e));
    });
  }

  test("the returned headers name our queue id, the Message-ID and the Return-Path", async () => {
    const r = await readReport(bytes(buildDsn({ to: TOKEN, originalHeaders: ORIGINAL, recipients: [{ finalRecipient: "bob@dest.test", action: "failed", status: "5.1.1" }] })));
    if (r.kind !== "dsn") throw new Error(r.kind);
    expect(r.original).toEqual({ messageId: "abc.123@example.com", returnPath: TOKEN, queueIds: ["01JQ8ZC7H4M2N8P4R6T8V0W2XY"], to: ["bob@dest.test"] });
  });
});

describe("the reply a late bounce records, and whether it suppresses (the rule of synchronous bounces)", () => {
  const rows: [string, Parameters<typeof dsnReply>[0], { code: number; enhanced: string | null }, boolean][] = [
    ["5.1.1 with an SMTP diagnostic", { recipient: "a@b.test", originalRecipient: null, action: "failed", status: "5.1.1", diagnostic: "550 5.1.1 no such user", remoteMta: null }, { code: 550, enhanced: "5.1.1" }, true],
    ["5.1.1 without a diagnostic", { recipient: "a@b.test", originalRecipient: null, action: "failed", status: "5.1.1", diagnostic: null, remoteMta: null }, { code: 550, enhanced: "5.1.1" }, true],
    ["5.1.10 null MX", { recipient: "a@b.test", originalRecipient: null, action: "failed", status: "5.1.10", diagnostic: "556 5.1.10 null MX", remoteMta: null }, { code: 556, enhanced: "5.1.10" }, true],
    ["5.2.2 mailbox full", { recipient: "a@b.test", originalRecipient: null, action: "failed", status: "5.2.2", diagnostic: "552 5.2.2 over quota", remoteMta: null }, { code: 552, enhanced: "5.2.2" }, false],
    ["5.7.1 policy", { recipient: "a@b.test", originalRecipient: null, action: "failed", status: "5.7.1", diagnostic: "550 5.7.1 spam", remoteMta: null }, { code: 550, enhanced: "5.7.1" }, false],
    ["4.4.7 expired on the way", { recipient: "a@b.test", originalRecipient: null, action: "failed", status: "4.4.7", diagnostic: null, remoteMta: null }, { code: 450, enhanced: "4.4.7" }, false],
    ["5.1.7 about the sender", { recipient: "a@b.test", originalRecipient: null, action: "failed", status: "5.1.7", diagnostic: "553 5.1.7 bad sender", remoteMta: null }, { code: 553, enhanced: "5.1.7" }, false],
    ["Status wins over the diagnostic's code", { recipient: "a@b.test", originalRecipient: null, action: "failed", status: "5.1.1", diagnostic: "550 5.0.0 user unknown", remoteMta: null }, { code: 550, enhanced: "5.1.1" }, true],
    ["an X-Postfix diagnostic that is not an SMTP reply", { recipient: "a@b.test", originalRecipient: null, action: "failed", status: "5.1.1", diagnostic: "unknown user: \"a\"", remoteMta: null }, { code: 550, enhanced: "5.1.1" }, true],
  ];
  for (const [what, r, expected, suppresses] of rows) {
    test(what, () => {
      const reply = dsnReply(r);
      expect(reply).toMatchObject(expected);
      expect(suppressesRecipient(reply)).toBe(suppresses);
    });
  }
});

describe("ARF extraction", () => {
  test("Feedback-Type, User-Agent, Original-Rcpt-To and the original's headers", async () => {
    const r = await readReport(bytes(buildArf({ to: "fbl@relay.test", originalRcptTo: "Bob@dest.test", original: `${ORIGINAL}\r\n\r\nHello Bob\r\n` })));
    expect(r).toEqual({
      kind: "arf",
      feedbackType: "abuse",
      userAgent: "SomeGenerator/1.0",
      originalRcptTo: ["bob@dest.test"],
      original: { messageId: "abc.123@example.com", returnPath: TOKEN, queueIds: ["01JQ8ZC7H4M2N8P4R6T8V0W2XY"], to: ["bob@dest.test"] },
    });
  });

  test("Original-Mail-From stands in for a missing Return-Path", async () => {
    const r = await readReport(bytes(buildArf({ to: "fbl@relay.test", originalMailFrom: TOKEN, original: "From: alice@example.com\r\nSubject: x\r\n\r\nbody\r\n" })));
    if (r.kind !== "arf") throw new Error(r.kind);
    expect(r.original.returnPath).toBe(TOKEN);
    expect(r.original.queueIds).toEqual([]);
  });

  test("the feedback type is lower-cased (not-spam and auth-failure are read, act.ts ignores them)", async () => {
    const r = await readReport(bytes(buildArf({ to: "fbl@relay.test", feedbackType: "Not-Spam", original: "Subject: x\r\n\r\nbody\r\n" })));
    expect(r.kind === "arf" && r.feedbackType).toBe("not-spam");
  });
});

describe("anything else", () => {
  const rows: [string, string][] = [
    ["a plain message", "From: someone@else.test\r\nTo: fbl@relay.test\r\nSubject: hi\r\n\r\nunsubscribe me\r\n"],
    ["a multipart/report with no status part", "From: a@b.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n"],
    ["a delivery-status with no recipient block", "From: a@b.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n--x--\r\n"],
    ["no headers at all", "\r\n\r\n"],
  ];
  for (const [what, raw] of rows) {
    test(`${what} is neither`, async () => {
      expect((await readReport(bytes(raw))).kind).toBe("other");
    });
  }
});
