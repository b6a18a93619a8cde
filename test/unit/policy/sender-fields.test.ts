import { expect, test } from "bun:test";
import { checkSenderFields, refusedSender } from "../../../src/policy/message-headers.ts";

const msg = (head: string) => new TextEncoder().encode(`${head}\r\n\r\nbody\r\n`);
const rules = ["example.com", "ops@partner.test"];

test("a message that passes hands back its From: addresses (the signer's), read in the same pass", () => {
  expect(checkSenderFields(rules, msg("From: A <a@example.com>, b@example.com\r\nSender: ops@partner.test"), "a@example.com")).toEqual({ from: ["a@example.com", "b@example.com"] });
  // The caller's own From: (JSON API) is the one handed back.
  expect(checkSenderFields(rules, msg("From: ignored@evil.test"), null, ["a@example.com"])).toEqual({ from: ["a@example.com"] });
});

test("a refusal is the one refusedSender gives, with no From: handed back", () => {
  const cases: [string, string | null][] = [
    ["From: a@example.com", "ceo@victim.example"],
    ["From: a@example.com\r\nSender: x@partner.test", "a@example.com"],
    ["Subject: none", "a@example.com"],
    ["From: a@example.com\r\nFrom: b@example.com", null],
    ["From: ,,,", null],
    ["From: a@example.com\r\nResent-Sender: ,,,", null],
  ];
  for (const [head, mailFrom] of cases) {
    const refusal = refusedSender(rules, msg(head), mailFrom);
    expect(refusal).not.toBeNull();
    expect(checkSenderFields(rules, msg(head), mailFrom)).toEqual({ refusal: refusal! });
  }
});
