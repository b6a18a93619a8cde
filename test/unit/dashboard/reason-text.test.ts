import { describe, expect, test } from "bun:test";
import { reasonKey, waitOf } from "../../../src/dashboard/reason-text.ts";
import { bounceType, percent } from "../../../src/dashboard/rates-data.ts";

describe("reasonKey", () => {
  // Real providers' deferral texts: each pair must give one reason.
  const SAME: [string, string][] = [
    ["Greylisted until 2026-12-07T22:14:03.120Z, queue id Q1a2b3c4d", "Greylisted until 2026-12-07T22:19:45.001Z, queue id Q9f8e7d6c"],
    ["Greylisted, please try again in 299 seconds", "Greylisted, please try again in 12 seconds"],
    ["[TSS04] Messages from 203.0.113.7 temporarily deferred due to user complaints", "[TSS04] Messages from 198.51.100.23 temporarily deferred due to user complaints"],
    ["Try again later, closing connection. (DATA) d2e1a72fcca58-7a2f9b1c3d4si123456pfb.123 - gsmtp", "Try again later, closing connection. (DATA) 5b1f17b1804b1-4328c1e7c2asi9988776.44 - gsmtp"],
    ["Service unavailable at 22:14:03, retry", "Service unavailable at 09:01:59, retry"],
  ];
  for (const [a, b] of SAME) test(`one reason: ${a}`, () => expect(reasonKey(a)).toBe(reasonKey(b)));

  test("keeps the words that make a reason", () => {
    expect(reasonKey("mailbox busy, try again later")).toBe("mailbox busy, try again later");
    expect(reasonKey("Greylisted until 2026-12-07T22:14:03Z, queue id Q1a2b3c4d")).toBe("Greylisted until <time>, queue id <id>");
    expect(reasonKey("mailbox busy")).not.toBe(reasonKey("mailbox full"));
  });
});

describe("waitOf", () => {
  test("reads our own waits and nothing else", () => {
    expect(waitOf("route_down: smtp://127.0.0.1:2525 until 2026-12-07T22:14:03.000Z")).toEqual({ kind: "route_down", on: "smtp://127.0.0.1:2525" });
    expect(waitOf("route_quota: smtps://smtp.example.net:465 until 2026-12-07T22:14:03.000Z")).toEqual({ kind: "route_quota", on: "smtps://smtp.example.net:465" });
    expect(waitOf("destination_pace: *.google.com until 2026-12-07T22:14:03.000Z")).toEqual({ kind: "destination_pace", on: "*.google.com" });
    expect(waitOf("451 4.3.0 mailbox busy (via smtp://127.0.0.1:2525)")).toBeNull();
  });
});

describe("bounceType", () => {
  const TABLE: [string | null, number | null, string][] = [
    ["5.1.1", 550, "5.1.x"],
    ["5.2.2", 552, "5.2.x"],
    ["5.7.1", 550, "5.7.x"],
    ["4.4.7", 451, "4.4.7"],
    ["5.4.4", 550, "5.4.x"],
    [null, 554, "554"],
    [null, null, "none"],
  ];
  for (const [enhanced, code, type] of TABLE) test(`${enhanced ?? "-"} ${code ?? "-"} is ${type}`, () => expect(bounceType(enhanced, code).type).toBe(type));
  test("an expired message is its own type", () => expect(bounceType("4.4.7", 451).label).toBe("expired in the queue"));
  test("percent with one decimal, a dash for nothing", () => {
    expect([percent(3, 4), percent(1, 3), percent(0, 0)]).toEqual(["75.0 %", "33.3 %", "-"]);
  });
});
