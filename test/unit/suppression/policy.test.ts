import { describe, expect, test } from "bun:test";
import { parseReplyLine, bounceClass } from "../../../src/events/reply.ts";
import { suppressesRecipient } from "../../../src/suppression/policy.ts";

describe("which permanent failures suppress the recipient", () => {
  const cases: [string, boolean, string][] = [
    ["550 5.1.1 no such user here", true, "recipient"],
    ["550 5.1.2 dest.test has no MX and no address records", true, "domain"],
    ["550 5.1.10 dest.test accepts no mail (null MX, RFC 7505)", true, "domain"],
    ["550 5.7.1 rejected by policy", false, "policy"],
    ["554 5.7.1 Service unavailable; client host blocked using zen.spamhaus.org", false, "policy"],
    ["451 4.4.7 Message expired after 5 day(s) in the queue; last reply: 550 5.1.1 x", false, "other"],
    ["553 5.1.8 bad sender's system address", false, "other"],
    ["550 5.1.0 <alice@example.com>: Sender address rejected: not owned by user", false, "recipient"],
    ["552 5.2.2 mailbox full", false, "mailbox-full"],
    ["550 no enhanced code", false, "other"],
  ];
  for (const [line, suppress, cls] of cases) {
    test(`${line} → ${suppress ? "suppress" : "keep"} (${cls})`, () => {
      const r = parseReplyLine(line);
      expect(suppressesRecipient(r)).toBe(suppress);
      expect(bounceClass(r)).toBe(cls as ReturnType<typeof bounceClass>);
    });
  }

  test("reads the reply line as a value", () => {
    expect(parseReplyLine("550 5.1.1 no  such\r\n user")).toEqual({ code: 550, enhanced: "5.1.1", text: "no such user" });
    expect(parseReplyLine("250 Ok")).toEqual({ code: 250, enhanced: null, text: "Ok" });
  });
});
