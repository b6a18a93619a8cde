/**
 * What an attempt's outcome makes of a recipient (src/delivery/decide.ts): one row per
 * rule — delivered, bounced with or without a DSN, deferred with backoff, bounced once the
 * queue lifetime is over — with real upstream replies.
 */
import { describe, expect, test } from "bun:test";
import { recipientUpdates, stored, type Attempt } from "../../../src/delivery/decide.ts";
import { reply } from "../../../src/core/reply.ts";
import type { DeliveryConfig } from "../../../src/delivery/worker-config.ts";
import type { LeasedRecipient } from "../../../src/queue/lease.ts";
import type { RecipientUpdate } from "../../../src/queue/outcomes.ts";
import type { StoredMessage } from "../../../src/queue/stored.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

const config: DeliveryConfig = {
  hostname: "relay.test",
  retryBaseMs: MINUTE,
  lifetimeMs: 5 * DAY,
  allowPrivateMx: false,
  mxPort: 25,
  defaultUpstream: "mx",
  concurrency: 4,
  perDestination: 2,
  leaseMs: 5 * MINUTE,
  pollMs: 1000,
};

const delivered: Attempt = { outcome: "delivered", reply: { code: 250, enhanced: "2.0.0", text: "OK 1717243200 o12-20020a05" }, via: "mx.dest.test", remoteMta: "mx.dest.test" };
const unknownUser: Attempt = { outcome: "permanent", reply: { code: 550, enhanced: "5.1.1", text: "The email account that you tried to reach does not exist." }, via: "mx.dest.test", remoteMta: "mx.dest.test" };
const greylisted: Attempt = { outcome: "transient", reply: { code: 451, enhanced: "4.7.1", text: "Greylisted, please try again in 300 seconds" }, via: "mx.dest.test", remoteMta: "mx.dest.test" };

interface Row {
  name: string;
  /** The recipient's fields that matter here. */
  rcpt?: Partial<LeasedRecipient>;
  /** The message's envelope sender ("" for a bounce). */
  mailFrom?: string;
  /** How long ago the message was accepted. */
  age?: number;
  /** The last attempt's result; absent: nothing was tried for this recipient. */
  attempt?: Attempt;
  expected: Pick<RecipientUpdate, "state" | "reply" | "dsnDue" | "nextAttemptAt">;
}

const rows: Row[] = [
  { name: "a 250 delivers, with the upstream's reply and no DSN", attempt: delivered, expected: { state: "delivered", reply: delivered.reply, dsnDue: false } },
  { name: "a 550 bounces with a failure DSN due (no NOTIFY: failure is the default)", attempt: unknownUser, expected: { state: "bounced", reply: unknownUser.reply, dsnDue: true } },
  { name: "a 550 with NOTIFY=FAILURE,DELAY bounces with a DSN due", rcpt: { notify: "FAILURE,DELAY" }, attempt: unknownUser, expected: { state: "bounced", reply: unknownUser.reply, dsnDue: true } },
  { name: "a 550 with NOTIFY=NEVER bounces without a DSN", rcpt: { notify: "NEVER" }, attempt: unknownUser, expected: { state: "bounced", reply: unknownUser.reply, dsnDue: false } },
  { name: "a 550 with NOTIFY=SUCCESS,DELAY bounces without a failure DSN", rcpt: { notify: "SUCCESS,DELAY" }, attempt: unknownUser, expected: { state: "bounced", reply: unknownUser.reply, dsnDue: false } },
  { name: "a 550 for a null-sender message bounces without a DSN (never a bounce for a bounce)", mailFrom: "", attempt: unknownUser, expected: { state: "bounced", reply: unknownUser.reply, dsnDue: false } },
  { name: "a first 451 defers for the base delay", attempt: greylisted, expected: { state: "deferred", reply: greylisted.reply, dsnDue: false, nextAttemptAt: NOW + MINUTE } },
  { name: "each earlier attempt doubles the delay", rcpt: { attempts: 3 }, attempt: greylisted, expected: { state: "deferred", reply: greylisted.reply, dsnDue: false, nextAttemptAt: NOW + 8 * MINUTE } },
  { name: "the delay stops growing at four hours", rcpt: { attempts: 12 }, attempt: greylisted, expected: { state: "deferred", reply: greylisted.reply, dsnDue: false, nextAttemptAt: NOW + 4 * HOUR } },
  { name: "a 451 just inside the lifetime still defers", age: 5 * DAY - 1, rcpt: { attempts: 1 }, attempt: greylisted, expected: { state: "deferred", reply: greylisted.reply, dsnDue: false, nextAttemptAt: NOW + 2 * MINUTE } },
  {
    name: "a 451 once the lifetime is over bounces with the days queued and the last reply, and a DSN due",
    age: 5 * DAY,
    attempt: greylisted,
    expected: { state: "bounced", reply: { code: 451, enhanced: "4.4.7", text: "Message expired after 5 day(s) in the queue; last reply: 451 4.7.1 Greylisted, please try again in 300 seconds" }, dsnDue: true },
  },
  { name: "time spent waiting on our own quotas does not count toward the lifetime", age: 6 * DAY, rcpt: { waitedMs: 2 * DAY }, attempt: greylisted, expected: { state: "deferred", reply: greylisted.reply, dsnDue: false, nextAttemptAt: NOW + MINUTE } },
  { name: "a permanent failure bounces at once, whatever the age", age: 10 * DAY, attempt: unknownUser, expected: { state: "bounced", reply: unknownUser.reply, dsnDue: true } },
  { name: "nothing tried (no route): deferred with 451 4.4.0", expected: { state: "deferred", reply: { code: 451, enhanced: "4.4.0", text: "no route was tried" }, dsnDue: false, nextAttemptAt: NOW + MINUTE } },
  {
    name: "nothing tried and the lifetime over: bounced, the last reply saying no route was tried",
    age: 7 * DAY,
    expected: { state: "bounced", reply: { code: 451, enhanced: "4.4.7", text: "Message expired after 7 day(s) in the queue; last reply: 451 4.4.0 no route was tried" }, dsnDue: true },
  },
];

describe("recipientUpdates", () => {
  for (const row of rows) {
    test(row.name, () => {
      const rcpt: LeasedRecipient = { id: 7, message_id: "m1", address: "bob@dest.test", domain: "dest.test", notify: null, orcpt: null, attempts: 0, waitedMs: 0, ...row.rcpt };
      const message: StoredMessage = { id: "m1", accountId: "a1", mailFrom: row.mailFrom ?? "app@example.com", raw: new Uint8Array(), envid: null, ret: null, smtputf8: false, createdAt: NOW - (row.age ?? MINUTE) };
      const final = new Map<number, Attempt>(row.attempt ? [[rcpt.id, row.attempt]] : []);
      const [update, ...more] = recipientUpdates([rcpt], message, final, config, NOW);
      expect(more).toEqual([]);
      const { state, reply, dsnDue, nextAttemptAt } = update!;
      expect({ state, reply, dsnDue, nextAttemptAt }).toEqual({ nextAttemptAt: undefined, ...row.expected });
      expect([update!.id, update!.address, update!.via]).toEqual([7, "bob@dest.test", row.attempt?.via ?? "none"]);
    });
  }
});

describe("stored: the wire reply kept as values", () => {
  const cases: { name: string; wire: ReturnType<typeof reply>; expected: { code: number; enhanced: string | null; text: string } }[] = [
    { name: "one line with an enhanced code", wire: reply(250, "2.0.0", "Ok: queued as 4XhZ2k0Qz1"), expected: { code: 250, enhanced: "2.0.0", text: "Ok: queued as 4XhZ2k0Qz1" } },
    { name: "no enhanced code is null, not undefined", wire: reply(554, undefined, "mx.dest.test ESMTP not accepting messages"), expected: { code: 554, enhanced: null, text: "mx.dest.test ESMTP not accepting messages" } },
    {
      name: "a multi-line reply is joined with spaces (RFC 5321 §4.2.1)",
      wire: reply(550, "5.7.1", "Service unavailable, Client host [192.0.2.7] blocked", "using Spamhaus; see https://check.spamhaus.org/"),
      expected: { code: 550, enhanced: "5.7.1", text: "Service unavailable, Client host [192.0.2.7] blocked using Spamhaus; see https://check.spamhaus.org/" },
    },
  ];
  for (const c of cases) test(c.name, () => expect(stored(c.wire)).toEqual(c.expected));
});
