/**
 * MAIL FROM and RCPT TO parameters (src/smtp/params.ts): what each extension's parameter
 * accepts, and the reply for what it refuses — 501 for a malformed value, 555 for a
 * parameter we do not support (RFC 5321 §4.1.1.11).
 */
import { describe, expect, test } from "bun:test";
import { parseMailParams, parseRcptParams, type MailParams, type RcptParams } from "../../../src/smtp/params.ts";

/** What a row expects: the parameters, or the reply's code, enhanced code and text. */
type Expected<T> = { params: T } | { refused: [number, string, string] };

const outcome = <T,>(r: { ok: true; params: T } | { ok: false; reply: { code: number; enhanced?: string; lines: readonly string[] } }): Expected<T> =>
  r.ok ? { params: r.params } : { refused: [r.reply.code, r.reply.enhanced ?? "", r.reply.lines.join(" ")] };

const mailRows: { name: string; text: string; expected: Expected<MailParams> }[] = [
  { name: "no parameters", text: "", expected: { params: { smtputf8: false } } },
  { name: "SIZE (RFC 1870) as a number", text: "SIZE=1048576", expected: { params: { smtputf8: false, size: 1048576 } } },
  { name: "SIZE=0 is a size", text: "SIZE=0", expected: { params: { smtputf8: false, size: 0 } } },
  { name: "SIZE without a value is malformed", text: "SIZE", expected: { refused: [501, "5.5.4", "SIZE needs a number"] } },
  { name: "SIZE that is not digits is malformed", text: "SIZE=1e6", expected: { refused: [501, "5.5.4", "SIZE needs a number"] } },
  { name: "SIZE longer than 15 digits is malformed", text: "SIZE=1234567890123456", expected: { refused: [501, "5.5.4", "SIZE needs a number"] } },
  { name: "BODY=8BITMIME (RFC 6152), any case", text: "body=8bitmime", expected: { params: { smtputf8: false, body: "8BITMIME" } } },
  { name: "BODY=7BIT", text: "BODY=7BIT", expected: { params: { smtputf8: false, body: "7BIT" } } },
  { name: "BODY=BINARYMIME is not offered (no CHUNKING): 555", text: "BODY=BINARYMIME", expected: { refused: [555, "5.5.4", "Unsupported parameter BODY=BINARYMIME"] } },
  { name: "SMTPUTF8 (RFC 6531) as a flag", text: "SMTPUTF8", expected: { params: { smtputf8: true } } },
  { name: "SMTPUTF8 with a value is malformed", text: "SMTPUTF8=yes", expected: { refused: [501, "5.5.4", "SMTPUTF8 takes no value"] } },
  { name: "RET=HDRS and an xtext ENVID (RFC 3461), as a DSN-asking client sends them", text: "RET=HDRS ENVID=QQ314159+2Bx", expected: { params: { smtputf8: false, ret: "HDRS", envid: "QQ314159+2Bx" } } },
  { name: "RET=FULL, any case", text: "RET=full", expected: { params: { smtputf8: false, ret: "FULL" } } },
  { name: "RET of another kind is malformed", text: "RET=BODY", expected: { refused: [501, "5.5.4", "RET must be FULL or HDRS"] } },
  { name: "ENVID with a raw '=' is not xtext", text: "ENVID=a=b", expected: { refused: [501, "5.5.4", "Bad ENVID"] } },
  { name: "ENVID with a lower-case hexchar is not xtext", text: "ENVID=a+2b", expected: { refused: [501, "5.5.4", "Bad ENVID"] } },
  { name: "ENVID of 101 characters is too long (RFC 3461 §4.4: 100)", text: `ENVID=${"x".repeat(101)}`, expected: { refused: [501, "5.5.4", "Bad ENVID"] } },
  { name: "ENVID of 100 characters is accepted", text: `ENVID=${"x".repeat(100)}`, expected: { params: { smtputf8: false, envid: "x".repeat(100) } } },
  { name: "AUTH=<> (RFC 4954 §5: the submitter's identity is unknown)", text: "AUTH=<>", expected: { params: { smtputf8: false, auth: "<>" } } },
  { name: "AUTH with an xtext-encoded address", text: "AUTH=alice+40example.com", expected: { params: { smtputf8: false, auth: "alice+40example.com" } } },
  { name: "AUTH without a value is malformed", text: "AUTH", expected: { refused: [501, "5.5.4", "Bad AUTH parameter"] } },
  {
    name: "everything a client may combine, separated by more than one space",
    text: "SIZE=2048  BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=abc AUTH=<>",
    expected: { params: { smtputf8: true, size: 2048, body: "8BITMIME", ret: "FULL", envid: "abc", auth: "<>" } },
  },
  { name: "a parameter twice is refused", text: "SIZE=1 size=2", expected: { refused: [501, "5.5.4", "Duplicate parameter SIZE"] } },
  { name: "a keyword starting with '-' is malformed", text: "-X=1", expected: { refused: [501, "5.5.4", "Bad parameter syntax: -X=1"] } },
  { name: "an extension we do not offer (MT-PRIORITY) is 555", text: "MT-PRIORITY=3", expected: { refused: [555, "5.5.4", "Unsupported parameter MT-PRIORITY"] } },
  { name: "a RCPT parameter on MAIL is 555", text: "NOTIFY=NEVER", expected: { refused: [555, "5.5.4", "Unsupported parameter NOTIFY"] } },
];

const rcptRows: { name: string; text: string; expected: Expected<RcptParams> }[] = [
  { name: "no parameters", text: "", expected: { params: {} } },
  { name: "NOTIFY=FAILURE,DELAY (RFC 3461 §4.1)", text: "NOTIFY=FAILURE,DELAY", expected: { params: { notify: ["FAILURE", "DELAY"] } } },
  { name: "NOTIFY in lower case is upper-cased", text: "notify=success", expected: { params: { notify: ["SUCCESS"] } } },
  { name: "NOTIFY=NEVER alone", text: "NOTIFY=NEVER", expected: { params: { notify: ["NEVER"] } } },
  { name: "NEVER with anything else is malformed", text: "NOTIFY=NEVER,FAILURE", expected: { refused: [501, "5.5.4", "Bad NOTIFY parameter"] } },
  { name: "an unknown NOTIFY keyword is malformed", text: "NOTIFY=ALWAYS", expected: { refused: [501, "5.5.4", "Bad NOTIFY parameter"] } },
  { name: "NOTIFY without a value is malformed", text: "NOTIFY", expected: { refused: [501, "5.5.4", "Bad NOTIFY parameter"] } },
  { name: "ORCPT with rfc822 and an xtext address (RFC 3461 §4.2)", text: "ORCPT=rfc822;bob+40dest.test", expected: { params: { orcpt: "rfc822;bob+40dest.test" } } },
  { name: "ORCPT and NOTIFY together", text: "NOTIFY=DELAY ORCPT=rfc822;bob@dest.test", expected: { params: { notify: ["DELAY"], orcpt: "rfc822;bob@dest.test" } } },
  { name: "ORCPT without an address type is malformed", text: "ORCPT=bob@dest.test", expected: { refused: [501, "5.5.4", "Bad ORCPT parameter"] } },
  { name: "ORCPT whose address is not xtext is malformed", text: "ORCPT=rfc822;bob=x@dest.test", expected: { refused: [501, "5.5.4", "Bad ORCPT parameter"] } },
  { name: "a MAIL parameter on RCPT is 555", text: "SIZE=100", expected: { refused: [555, "5.5.4", "Unsupported parameter SIZE"] } },
  { name: "a parameter twice is refused", text: "NOTIFY=NEVER NOTIFY=NEVER", expected: { refused: [501, "5.5.4", "Duplicate parameter NOTIFY"] } },
];

describe("MAIL FROM parameters", () => {
  for (const row of mailRows) test(row.name, () => expect(outcome(parseMailParams(row.text))).toEqual(row.expected));
});

describe("RCPT TO parameters", () => {
  for (const row of rcptRows) test(row.name, () => expect(outcome(parseRcptParams(row.text))).toEqual(row.expected));
});
