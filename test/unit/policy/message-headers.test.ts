import { expect, test } from "bun:test";
import { removeHeaderFields, senderFieldAddresses, STRIPPED_HEADERS } from "../../../src/policy/message-headers.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

test("removes the fields with their folded lines, in the header block only, keeping every other byte", () => {
  const raw = bytes(
    "Received: from x\r\n by y\r\nAuthentication-Results: a; dmarc=pass\r\n\theader.from=example.com\r\nFrom: a@example.com\r\n" +
      "smarthost-idempotency-key: k1\r\nAUTHENTICATION-RESULTS : b; spf=pass\r\nSubject: s\r\n\r\nAuthentication-Results: body\r\n",
  );
  expect(text(removeHeaderFields(raw, STRIPPED_HEADERS))).toBe("Received: from x\r\n by y\r\nFrom: a@example.com\r\nSubject: s\r\n\r\nAuthentication-Results: body\r\n");
});

test("the same array when nothing is removed; a message without a blank line is all header", () => {
  const raw = bytes("From: a@example.com\r\n\r\nbody\r\n");
  expect(removeHeaderFields(raw, STRIPPED_HEADERS)).toBe(raw);
  expect(text(removeHeaderFields(bytes("From: a@example.com\r\nAuthentication-Results: x"), STRIPPED_HEADERS))).toBe("From: a@example.com\r\n");
});

test("Sender:, Resent-From: and Resent-Sender: addresses, null for one that does not parse", () => {
  const raw = bytes("Resent-From: r1@example.com, R2 <r2@example.com>\r\nSender: s@example.com\r\nResent-Sender: ,,,\r\n\r\nSender: body@x.test\r\n");
  expect(senderFieldAddresses(raw)).toEqual([
    { field: "sender", addresses: ["s@example.com"] },
    { field: "resent-from", addresses: ["r1@example.com", "r2@example.com"] },
    { field: "resent-sender", addresses: null },
  ]);
});
