/**
 * The hand-off of a new message to this process's worker (src/queue/handoff.ts): its
 * recipients leased in the accepting transaction, the worker given the very bytes stored
 * and the leased rows grouped by domain; nothing leased for a duplicate, a refusal or a
 * worker without room.
 */
import { afterEach, expect, test } from "bun:test";
import type { Handoff, Lease } from "../../../src/queue/handoff.ts";
import type { DeliveryGroup } from "../../../src/queue/lease.ts";
import type { StoredMessage } from "../../../src/queue/stored.ts";
import { gatewayFixture, type GatewayFixture } from "../policy/gateway-fixture.ts";

let fx: GatewayFixture | undefined;
afterEach(() => fx?.close());

function recordingHandoff(room: boolean) {
  const taken: { message: StoredMessage; groups: DeliveryGroup[] }[] = [];
  let claims = 0;
  let cancels = 0;
  const handoff: Handoff = {
    claim: (now): Lease | null => {
      if (!room) return null;
      claims++;
      return { owner: "w-test", until: now + 60_000 };
    },
    take: (message, groups) => void taken.push({ message, groups }),
    cancel: () => void cancels++,
  };
  return { handoff, taken, counts: () => ({ claims, cancels }) };
}

const raw = (subject: string) => new TextEncoder().encode(`From: a@example.com\r\nSubject: ${subject}\r\n\r\nhello\r\n`);
const rcpt = (address: string) => ({ address, domain: address.split("@")[1]! });

test("accepted: recipients leased to the worker in the same commit, the stored bytes and the groups handed over", async () => {
  const h = recordingHandoff(true);
  fx = await gatewayFixture({ handoff: h.handoff });
  const out = await fx.gateway.submit({ accountId: "acct", source: "http", mailFrom: "a@example.com", recipients: [rcpt("b@one.test"), rcpt("c@two.test"), rcpt("d@one.test")], raw: raw("handed") });
  const rows = (await fx.client.execute({ sql: "SELECT id, address, lease_owner, lease_until FROM recipients WHERE message_id = ? ORDER BY id", args: [out.id] })).rows;
  expect(rows.map((r) => r.lease_owner)).toEqual(["w-test", "w-test", "w-test"]);
  expect(rows.every((r) => Number(r.lease_until) > Date.now())).toBe(true);

  expect(h.taken).toHaveLength(1);
  const { message, groups } = h.taken[0]!;
  const stored = (await fx.client.execute({ sql: "SELECT raw FROM messages WHERE id = ?", args: [out.id] })).rows[0]!.raw as ArrayBuffer;
  expect(Buffer.from(message.raw).equals(Buffer.from(stored))).toBe(true);
  expect(message.id).toBe(out.id);
  expect(groups.map((g) => [g.domain, g.recipients.map((r) => r.address)])).toEqual([
    ["one.test", ["b@one.test", "d@one.test"]],
    ["two.test", ["c@two.test"]],
  ]);
  expect(groups.flatMap((g) => g.recipients.map((r) => r.id)).sort()).toEqual(rows.map((r) => Number(r.id)).sort());
  expect(h.counts()).toEqual({ claims: 1, cancels: 0 });
});

test("a duplicate (same idempotency key) leases nothing and gives its claim back; no room, no lease", async () => {
  const h = recordingHandoff(true);
  fx = await gatewayFixture({ handoff: h.handoff });
  const s = { accountId: "acct", source: "http" as const, mailFrom: "a@example.com", recipients: [rcpt("b@one.test")], raw: raw("once"), idempotencyKey: "k1" };
  const first = await fx.gateway.submit(s);
  const again = await fx.gateway.submit({ ...s, raw: raw("twice") });
  expect(again.id).toBe(first.id);
  expect(h.taken).toHaveLength(1);
  expect(h.counts()).toEqual({ claims: 2, cancels: 1 });
  fx.close();

  const full = recordingHandoff(false);
  fx = await gatewayFixture({ handoff: full.handoff });
  const out = await fx.gateway.submit({ accountId: "acct", source: "http", mailFrom: "a@example.com", recipients: [rcpt("b@one.test")], raw: raw("no room") });
  const row = (await fx.client.execute({ sql: "SELECT lease_owner, lease_until FROM recipients WHERE message_id = ?", args: [out.id] })).rows[0]!;
  expect(row.lease_owner).toBeNull();
  expect(Number(row.lease_until)).toBe(0);
  expect(full.taken).toHaveLength(0);
});
