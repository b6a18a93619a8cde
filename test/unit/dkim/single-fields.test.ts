import { expect, test } from "bun:test";
import { assertSingleFields, repeatedSingleField } from "../../../src/dkim/single-fields.ts";
import { toHttpError, toSmtpReply } from "../../../src/gateway/errors.ts";
import { Failure } from "../../../src/core/failure.ts";

const enc = (s: string) => new TextEncoder().encode(s);

test.each([
  ["From: a@x\r\nfrom: b@x\r\n\r\nbody", "from"],
  ["From: a@x\r\nSubject: one\r\nSUBJECT : two\r\n\r\n", "subject"],
  ["Date: Sun, 29 Nov 2026 08:00:00 +0000\r\nFrom: a@x\r\nDate:\r\n Mon, 30 Nov 2026 08:00:00 +0000\r\n\r\n", "date"],
  ["From: a@x\r\nTo: b@y\r\nTo: c@y\r\nSubject: s\r\n\r\nFrom: in the body\r\n", null],
  ["From: a@x\r\nSubject: s\r\n\tFrom: folded, same field\r\n\r\n", null],
])("repeated From/Subject/Date: %#", (raw, expected) => {
  expect(repeatedSingleField(enc(raw))).toBe(expected);
});

test("a repeated Subject: is 550 5.6.0 over SMTP and 400 duplicate_header over HTTP", () => {
  let caught: unknown;
  try {
    assertSingleFields(enc("From: a@x\r\nSubject: a\r\nSubject: b\r\n\r\n"));
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(Failure);
  const reply = toSmtpReply(caught as Failure);
  expect([reply.code, reply.enhanced]).toEqual([550, "5.6.0"]);
  expect(toHttpError(caught as Failure).status).toBe(400);
  expect(toHttpError(caught as Failure).body.error.code).toBe("duplicate_header");
});
