/** Date: and Message-ID: added to a submitted message that lacks them (RFC 6409 §8.2, §8.3), never changed when present. */
import { describe, expect, test } from "bun:test";
import { withSubmissionFields } from "../../../src/mime/submission-fields.ts";

const values = { id: "0ABCDEF12345XYZ", hostname: "relay.example.net", now: new Date(Date.UTC(2026, 11, 7, 9, 5, 3)) };
const DATE = "Date: Mon, 07 Dec 2026 09:05:03 +0000\r\n";
const MID = "Message-ID: <0ABCDEF12345XYZ@relay.example.net>\r\n";

const add = (text: string) => new TextDecoder("latin1").decode(withSubmissionFields(Buffer.from(text, "latin1"), values));

describe("adding what is missing", () => {
  test("both missing: appended at the end of the header block, before the empty line", () => {
    expect(add("From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n")).toBe(`From: a@example.com\r\nSubject: hi\r\n${DATE}${MID}\r\nbody\r\n`);
  });

  test("only the missing one is added", () => {
    expect(add("Date: Sun, 06 Dec 2026 08:00:00 +0100\r\nFrom: a@example.com\r\n\r\nx\r\n")).toBe(`Date: Sun, 06 Dec 2026 08:00:00 +0100\r\nFrom: a@example.com\r\n${MID}\r\nx\r\n`);
    expect(add("Message-ID: <own@example.com>\r\nFrom: a@example.com\r\n\r\nx\r\n")).toBe(`Message-ID: <own@example.com>\r\nFrom: a@example.com\r\n${DATE}\r\nx\r\n`);
  });

  test("a message with both comes back as the very same bytes", () => {
    const raw = Buffer.from("From: a@example.com\r\nDate: Sun, 06 Dec 2026 08:00:00 +0100\r\nMessage-ID: <own@example.com>\r\n\r\nx\r\n");
    expect(withSubmissionFields(raw, values)).toBe(raw);
  });

  test("field names in any case, and with white space before the colon, count as present", () => {
    const text = "from: a@example.com\r\nDATE: Sun, 06 Dec 2026 08:00:00 +0100\r\nmessage-id : <own@example.com>\r\n\r\nx\r\n";
    expect(add(text)).toBe(text);
  });

  test("folded fields count as present, and the fields go after the last fold", () => {
    const folded = "Message-ID:\r\n <own@example.com>\r\nSubject: a long\r\n\tsubject\r\n\r\nx\r\n";
    expect(add(folded)).toBe(`Message-ID:\r\n <own@example.com>\r\nSubject: a long\r\n\tsubject\r\n${DATE}\r\nx\r\n`);
  });

  test("a fold that merely begins with the name, and the same names in the body, do not count", () => {
    expect(add("Subject: x\r\n Date: no\r\n\r\nDate: in the body\r\nMessage-ID: <body@x>\r\n")).toBe(`Subject: x\r\n Date: no\r\n${DATE}${MID}\r\nDate: in the body\r\nMessage-ID: <body@x>\r\n`);
  });

  test("Resent-Date and Resent-Message-ID are other fields", () => {
    expect(add("Resent-Date: Sun, 06 Dec 2026 08:00:00 +0100\r\nResent-Message-ID: <r@x>\r\n\r\nx\r\n")).toBe(`Resent-Date: Sun, 06 Dec 2026 08:00:00 +0100\r\nResent-Message-ID: <r@x>\r\n${DATE}${MID}\r\nx\r\n`);
  });
});

describe("where the header block ends", () => {
  test("no header block at all: the fields and the empty line go before the body", () => {
    expect(add("just a body line\r\nand another\r\n")).toBe(`${DATE}${MID}\r\njust a body line\r\nand another\r\n`);
  });

  test("an empty header block (the message starts with the empty line)", () => {
    expect(add("\r\nbody\r\n\r\nmore\r\n")).toBe(`${DATE}${MID}\r\nbody\r\n\r\nmore\r\n`);
  });

  test("an empty message gets the two fields", () => {
    expect(add("")).toBe(`${DATE}${MID}`);
  });

  test("a line that is not a field ends the header block: the empty line is added before it", () => {
    expect(add("From: a@example.com\r\nnot a field\r\nSubject: later\r\n\r\nx\r\n")).toBe(`From: a@example.com\r\n${DATE}${MID}\r\nnot a field\r\nSubject: later\r\n\r\nx\r\n`);
  });

  test("header only, the last line without CRLF: the line is ended first", () => {
    expect(add("From: a@example.com\r\nSubject: hi")).toBe(`From: a@example.com\r\nSubject: hi\r\n${DATE}${MID}`);
    expect(add("From: a@example.com\r\n")).toBe(`From: a@example.com\r\n${DATE}${MID}`);
  });

  test("8-bit octets in a value are kept as they were", () => {
    const raw = Buffer.from([...Buffer.from("Subject: "), 0xc3, 0xa9, 0xff, ...Buffer.from("\r\n\r\n"), 0xe9, 0x0d, 0x0a]);
    const out = Buffer.from(withSubmissionFields(raw, values));
    expect(out.equals(Buffer.concat([raw.subarray(0, 14), Buffer.from(DATE + MID), raw.subarray(14)]))).toBe(true);
  });
});
