import { expect, test } from "bun:test";
import { refusedSender, removeHeaderFields, senderFieldAddresses, STRIPPED_HEADERS } from "../../../src/policy/message-headers.ts";

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

test("Sender:, Resent-From: and Resent-Sender: addresses in header order, null for one that does not parse", () => {
  const raw = bytes("Resent-From: r1@example.com, R2 <r2@example.com>\r\nSender: s@example.com\r\nResent-Sender: ,,,\r\n\r\nSender: body@x.test\r\n");
  expect(senderFieldAddresses(raw)).toEqual([
    { field: "resent-from", addresses: ["r1@example.com", "r2@example.com"] },
    { field: "sender", addresses: ["s@example.com"] },
    { field: "resent-sender", addresses: null },
  ]);
});

test("refusedSender: envelope first, then From:, Sender:, Resent-*; the null sender passes", () => {
  const rules = ["example.com", "ops@partner.test"];
  const msg = (h: string) => bytes(`${h}\r\n\r\nbody\r\n`);
  expect(refusedSender(rules, msg("From: a@example.com"), null)).toBeNull();
  expect(refusedSender(rules, msg("From: a@example.com"), "ceo@victim.example")).toEqual({ kind: "sender-denied", message: "Sender address <ceo@victim.example> not allowed for this account" });
  expect(refusedSender(rules, msg("From: a@example.com\r\nSender: OPS@partner.test"), "a@example.com")).toBeNull();
  expect(refusedSender(rules, msg("From: a@example.com\r\nSender: x@partner.test"), "a@example.com")?.message).toBe("Sender: address <x@partner.test> not allowed for this account");
  expect(refusedSender(rules, msg("From: a@example.com\r\nResent-Sender: r@evil.test"), "a@example.com")?.message).toContain("Resent-Sender:");
  expect(refusedSender(rules, msg("Subject: none"), "a@example.com")).toMatchObject({ kind: "invalid", code: "invalid_from" });
  expect(refusedSender(rules, msg("From: a@example.com\r\nFrom: b@example.com"), "a@example.com")).toMatchObject({ kind: "invalid", code: "invalid_from" });
  // The JSON API passes the From: it built; the folded Sender: is read unfolded.
  expect(refusedSender(rules, msg("From: ignored@evil.test\r\nSender:\r\n a@example.com"), "a@example.com", ["a@example.com"])).toBeNull();
});
