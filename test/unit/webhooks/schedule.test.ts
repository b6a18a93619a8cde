/**
 * When a failed webhook is tried again (src/webhooks/schedule.ts): the receiver's
 * Retry-After read as RFC 9110 §10.2.3 says, capped at a day, and the next attempt from the
 * schedule or from that header.
 */
import { describe, expect, test } from "bun:test";
import { DEFAULT_RETRY_SECONDS, nextAttemptAt, retryAfterMs } from "../../../src/webhooks/schedule.ts";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const DAY = 86_400_000;

describe("retryAfterMs", () => {
  const rows: { name: string; header: string | null; expected: number | null }[] = [
    { name: "no header", header: null, expected: null },
    { name: "an empty header", header: "", expected: null },
    { name: "delay-seconds", header: "120", expected: 120_000 },
    { name: "delay-seconds with surrounding spaces", header: " 30 ", expected: 30_000 },
    { name: "zero seconds: at once", header: "0", expected: 0 },
    { name: "more than a day is capped at a day", header: "172800", expected: DAY },
    { name: "an HTTP-date an hour ahead", header: "Mon, 01 Jun 2026 13:00:00 GMT", expected: 3600_000 },
    { name: "an HTTP-date in the past: at once", header: "Mon, 01 Jun 2026 11:00:00 GMT", expected: 0 },
    { name: "an HTTP-date a week ahead is capped at a day", header: "Mon, 08 Jun 2026 12:00:00 GMT", expected: DAY },
    { name: "a fraction is no delay-seconds, nor a date", header: "1.5s", expected: null },
    { name: "words are unreadable", header: "soon", expected: null },
    { name: "a negative number is neither delay-seconds nor a date", header: "-5", expected: null },
    { name: "four digits are delay-seconds, not a year", header: "2030", expected: 2030_000 },
  ];
  for (const row of rows) test(row.name, () => expect(retryAfterMs(row.header, NOW)).toBe(row.expected));
});

describe("nextAttemptAt", () => {
  const rows: { name: string; attempts: number; schedule?: number[]; retryAfter?: number | null; expected: number | null }[] = [
    { name: "after the first failure: 5 seconds (Standard Webhooks' schedule)", attempts: 1, expected: NOW + 5_000 },
    { name: "after the second: 5 minutes", attempts: 2, expected: NOW + 300_000 },
    { name: "after the ninth: a day", attempts: 9, expected: NOW + DAY },
    { name: "after the tenth: none left, the delivery has failed", attempts: 10, expected: null },
    { name: "the receiver's Retry-After replaces the schedule's wait", attempts: 1, retryAfter: 90_000, expected: NOW + 90_000 },
    { name: "Retry-After of 0: at once", attempts: 3, retryAfter: 0, expected: NOW },
    { name: "Retry-After does not add an attempt after the last", attempts: 10, retryAfter: 60_000, expected: null },
    { name: "a configured schedule (SMARTHOST_WEBHOOK_RETRY_SECONDS=1,1)", attempts: 2, schedule: [1, 1], expected: NOW + 1_000 },
    { name: "a configured schedule runs out at its own length", attempts: 3, schedule: [1, 1], expected: null },
    { name: "an empty schedule: no retry at all", attempts: 1, schedule: [], expected: null },
  ];
  for (const row of rows) {
    test(row.name, () => expect(nextAttemptAt(NOW, row.attempts, row.schedule ?? DEFAULT_RETRY_SECONDS, row.retryAfter ?? null)).toBe(row.expected));
  }
});
