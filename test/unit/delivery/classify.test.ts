/**
 * Upstream replies as documented by the providers (Gmail, Outlook, Yahoo, SES, Postmark,
 * Mailgun, Postfix), with the stage they come at and whether the upstream is a provider
 * relay we authenticate to or a domain's MX.
 */
import { describe, expect, test } from "bun:test";
import { isAuthFailure, type Outcome, type Scope, type Stage } from "../../../src/core/delivery-result.ts";
import { classifyRecipients, classifyReply, type Classification } from "../../../src/delivery/classify.ts";
import { reply } from "../../../src/core/reply.ts";

type Row = [source: string, wire: string, stage: Stage, upstream: "relay" | "mx", outcome: Outcome, scope: Scope];

/** "550 5.1.1 text" → a Reply, the way reply-reader.ts reads it. */
function parse(wire: string) {
  const m = /^(\d{3}) (?:([245]\.\d{1,3}\.\d{1,3}) )?(.*)$/.exec(wire)!;
  return reply(Number(m[1]), m[2], m[3]!);
}

const TABLE: Row[] = [
  ["Gmail unknown user", "550 5.1.1 The email account that you tried to reach does not exist.", "RCPT", "mx", "permanent", "recipient"],
  ["Gmail over quota", "452 4.2.2 The email account that you tried to reach is over quota.", "RCPT", "mx", "transient", "recipient"],
  ["Gmail unusual rate", "421 4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address.", "end of DATA", "mx", "transient", "message"],
  ["Gmail DMARC", "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy.", "end of DATA", "mx", "permanent", "message"],
  ["Gmail SMTP relay daily limit", "550 5.4.5 Daily user sending limit exceeded.", "MAIL", "relay", "transient", "route"],
  ["Gmail SMTP relay bad credentials", "535 5.7.8 Username and Password not accepted.", "AUTH", "relay", "transient", "route"],
  ["Outlook mailbox unavailable", "550 5.5.0 Requested action not taken: mailbox unavailable", "RCPT", "mx", "permanent", "recipient"],
  ["Outlook server busy", "451 4.7.500 Server busy. Please try again later.", "MAIL", "mx", "transient", "message"],
  ["Outlook relay: SMTP AUTH disabled", "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.", "AUTH", "relay", "transient", "route"],
  ["Yahoo deferral", "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints", "MAIL", "mx", "transient", "message"],
  ["Yahoo policy", "554 5.7.9 Message not accepted for policy reasons.", "end of DATA", "mx", "permanent", "message"],
  ["SES throttling", "454 4.7.0 Throttling failure: Maximum sending rate exceeded.", "end of DATA", "relay", "transient", "route"],
  ["SES unverified identity", "554 Message rejected: Email address is not verified.", "end of DATA", "relay", "permanent", "message"],
  ["SES credentials", "535 Authentication Credentials Invalid", "AUTH", "relay", "transient", "route"],
  ["Postmark From without sender signature", "550 5.7.1 The From address is not a confirmed Sender Signature.", "end of DATA", "relay", "permanent", "message"],
  ["Mailgun quota", "421 4.7.0 Sending quota exceeded", "MAIL", "relay", "transient", "route"],
  ["a relay shutting down answers RCPT", "421 4.3.2 Server shutting down", "RCPT", "relay", "transient", "route"],
  ["an MX shutting down answers RCPT", "421 4.3.2 Service not available, closing transmission channel", "RCPT", "mx", "transient", "message"],
  ["Mailgun relaying denied", "550 5.7.1 Relaying denied", "RCPT", "relay", "transient", "route"],
  ["Mailgun relaying denied at MAIL", "550 5.7.1 Relaying denied", "MAIL", "relay", "transient", "route"],
  ["Postfix relay size limit", "552 5.3.4 Message size exceeds fixed limit", "end of DATA", "relay", "permanent", "message"],
  ["Postfix MX size limit at MAIL (SIZE=)", "552 5.3.4 Message size exceeds fixed limit", "MAIL", "mx", "permanent", "message"],
  ["Postfix unknown sender domain", "450 4.1.8 <x@nowhere.test>: Sender address rejected: Domain not found", "MAIL", "mx", "transient", "message"],
  ["Postfix relay access denied at an MX", "554 5.7.1 <x@elsewhere.test>: Relay access denied", "RCPT", "mx", "permanent", "recipient"],
  ["Postfix relay access denied at a relay", "554 5.7.1 <x@elsewhere.test>: Relay access denied", "RCPT", "relay", "transient", "route"],
  ["Postfix recipient null MX", "550 5.1.10 <x@nullmx.test>: Recipient address rejected: Domain x does not accept mail (nullMX)", "RCPT", "mx", "permanent", "recipient"],
  ["Postfix 8-bit to a 7-bit host", "554 5.6.7 Message has 8-bit content", "end of DATA", "relay", "permanent", "message"],
  ["Postfix too many recipients as 552", "552 5.5.3 Too many recipients", "RCPT", "mx", "transient", "recipient"],
  ["Postfix greeting refused at an MX", "554 5.7.1 Service unavailable; client host blocked", "greeting", "mx", "permanent", "message"],
  ["Postfix greeting refused at a relay", "554 5.7.1 Service unavailable; client host blocked", "greeting", "relay", "transient", "route"],
  ["relay asks for AUTH at MAIL", "530 5.7.0 Authentication required", "MAIL", "relay", "transient", "route"],
  ["unknown user through a relay", "550 5.1.1 <nobody@dest.test>: Recipient address rejected: User unknown", "RCPT", "relay", "permanent", "recipient"],
  ["content refused through a relay", "550 5.7.1 Message rejected as spam", "end of DATA", "relay", "permanent", "message"],
  ["accepted", "250 2.0.0 Ok: queued as 4Xy", "end of DATA", "relay", "delivered", "message"],
  ["local: connection refused", "451 4.4.1 127.0.0.1:25: connection refused", "connect", "mx", "transient", "route"],
  ["local: TLS handshake failed", "451 4.4.1 mx.test:25: certificate has expired", "STARTTLS", "relay", "transient", "route"],
];

/**
 * A row at RCPT is the transaction's only recipient: RCPT replies are judged together
 * (classifyRecipients), and the sessions of several recipients have their own table below.
 */
function classifyAlone(wire: string, stage: Stage, relay: boolean): Classification {
  return stage === "RCPT" ? classifyRecipients([parse(wire)], { relay })[0]! : classifyReply(parse(wire), stage, { relay });
}

describe("classifyReply: real replies by code, enhanced code, stage and upstream", () => {
  for (const [source, wire, stage, upstream, outcome, scope] of TABLE) {
    test(`${source}: ${wire.slice(0, 40)} at ${stage} from ${upstream} → ${outcome}/${scope}`, () => {
      expect(classifyAlone(wire, stage, upstream === "relay")).toEqual({ outcome, scope });
    });
  }

  test("the words of the text do not decide: the same text, a different enhanced code", () => {
    // "limit" and "exceeded" used to make a relay's refusal temporary.
    expect(classifyReply(parse("552 5.3.4 Message size exceeds fixed limit"), "end of DATA", { relay: true }).outcome).toBe("permanent");
    expect(classifyReply(parse("550 5.4.5 Message size exceeds fixed limit"), "end of DATA", { relay: true }).outcome).toBe("transient");
  });
});

type SessionRow = [source: string, wires: string[], upstream: "relay" | "mx", expected: `${Outcome}/${Scope}`[]];

const OK = "250 2.1.5 Ok";
const DENIED = "550 5.7.1 Recipient address rejected: Access denied";

/** RCPT replies of one transaction: a route is judged on every recipient, a recipient on its own reply. */
const SESSIONS: SessionRow[] = [
  ["relay refuses one address among accepted ones", [OK, DENIED, OK], "relay", ["delivered/recipient", "permanent/recipient", "delivered/recipient"]],
  ["relay refuses one address, then accepts", [DENIED, OK], "relay", ["permanent/recipient", "delivered/recipient"]],
  ["relay refuses every recipient with 5.7.1 (relaying denied)", ["554 5.7.1 <x@elsewhere.test>: Relay access denied", "554 5.7.1 <y@elsewhere.test>: Relay access denied"], "relay", ["transient/route", "transient/route"]],
  ["relay asks for AUTH at every RCPT", ["530 5.7.0 Authentication required", "530 5.7.0 Authentication required"], "relay", ["transient/route", "transient/route"]],
  ["relay: one 5.7.1, one unknown user — both about their recipients", [DENIED, "550 5.1.1 User unknown"], "relay", ["permanent/recipient", "permanent/recipient"]],
  ["relay: one 5.7.1, one greylisted — the 5.7.1 is the recipient's", [DENIED, "451 4.7.1 Greylisted, try again"], "relay", ["permanent/recipient", "transient/recipient"]],
  ["relay: 4.7.x to every recipient is still each recipient's", ["450 4.7.1 Recipient address rejected: try later", "450 4.7.1 Recipient address rejected: try later"], "relay", ["transient/recipient", "transient/recipient"]],
  ["relay: a full mailbox among accepted ones", [OK, "452 4.2.2 Mailbox full"], "relay", ["delivered/recipient", "transient/recipient"]],
  ["MX refuses every recipient with 5.7.1", [DENIED, DENIED], "mx", ["permanent/recipient", "permanent/recipient"]],
];

describe("classifyRecipients: one transaction's RCPT replies", () => {
  for (const [source, wires, upstream, expected] of SESSIONS) {
    test(`${source} → ${expected.join(", ")}`, () => {
      const got = classifyRecipients(wires.map(parse), { relay: upstream === "relay" });
      expect(got.map((c) => `${c.outcome}/${c.scope}`)).toEqual(expected);
    });
  }

  test("a relay's 5.7.1 to RCPT, judged alone, is about the recipient", () => {
    expect(classifyReply(parse(DENIED), "RCPT", { relay: true })).toEqual({ outcome: "permanent", scope: "recipient" });
  });
});

describe("isAuthFailure: what trips a route's breaker at once", () => {
  const rows: [wire: string, stage: Stage, auth: boolean][] = [
    ["535 5.7.8 Username and Password not accepted.", "AUTH", true],
    ["454 4.7.0 Temporary authentication failure", "AUTH", true],
    ["530 5.7.0 Authentication required", "MAIL", true],
    ["550 5.7.1 Relaying denied", "MAIL", false],
    ["550 5.7.1 Relaying denied", "RCPT", false],
    ["421 4.7.0 Sending quota exceeded", "MAIL", false],
    ["550 5.4.5 Daily user sending limit exceeded.", "MAIL", false],
    ["451 4.4.1 127.0.0.1:25: connection refused", "connect", false],
  ];
  for (const [wire, stage, auth] of rows) {
    test(`${wire.slice(0, 40)} at ${stage} → ${auth ? "at once" : "counted"}`, () => {
      expect(isAuthFailure(parse(wire), stage)).toBe(auth);
    });
  }
});
