/** Recording outcomes on a real libSQL file: when the message's one DSN is queued, and what it covers. */
import { afterEach, expect, test } from "bun:test";
import { createClient, type Client } from "@libsql/client";
import { join } from "node:path";
import { applyMigrations } from "../../../src/db/migrate.ts";
import { GroupCommit } from "../../../src/db/group-commit.ts";
import { insertMessage, type NewMessage } from "../../../src/queue/enqueue.ts";
import { leaseDueGroups } from "../../../src/queue/lease.ts";
import { recordOutcomes, type DueBounce, type RecipientUpdate } from "../../../src/queue/outcomes.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

let dir = "";
let client: Client;
afterEach(() => {
  client?.close();
  if (dir) removeDir(dir);
});

const refused = { code: 550, enhanced: "5.1.1", text: "no such user" };

async function open() {
  dir = tempDir();
  client = createClient({ url: `file:${join(dir, "o.db")}` });
  await applyMigrations(client);
  await client.execute("INSERT INTO accounts (id, name, created_at) VALUES ('acct', 'acme', 0)");
  const writer = new GroupCommit(client);
  const m: NewMessage = {
    id: "m1",
    accountId: "acct",
    source: "http",
    mailFrom: "alice@example.com",
    raw: new TextEncoder().encode("Subject: x\r\n\r\nx\r\n"),
    recipients: ["a@one.test", "b@two.test", "c@three.test"].map((address) => ({ address, domain: address.split("@")[1]! })),
    smtputf8: false,
  };
  await writer.write((sql) => insertMessage(sql, m, 1_000));
  return writer;
}

/** Every DSN the callback was asked for, and a stand-in message for each. */
function dsnSpy() {
  const asked: DueBounce[][] = [];
  const make = (due: DueBounce[]): NewMessage => {
    asked.push(due);
    return { id: `dsn${asked.length}`, accountId: "acct", source: "dsn", mailFrom: "", raw: new TextEncoder().encode("x\r\n"), recipients: [{ address: "alice@example.com", domain: "example.com", notify: "NEVER" }], smtputf8: false };
  };
  return { asked, make };
}

const update = (id: number, address: string, state: RecipientUpdate["state"], dsnDue = state === "bounced"): RecipientUpdate => ({
  id,
  address,
  state,
  reply: state === "bounced" ? refused : state === "deferred" ? { code: 451, enhanced: "4.2.0", text: "busy" } : { code: 250, enhanced: "2.0.0", text: "ok" },
  via: "test",
  remoteMta: "mx.test",
  dsnDue,
  nextAttemptAt: 99_000,
});

test("a bounce waits while other recipients are being tried; the last outcome queues one DSN covering all bounces", async () => {
  const writer = await open();
  const groups = await leaseDueGroups(writer, "w1", 2_000, 60_000, 10);
  expect(groups).toHaveLength(3);
  const [a, b, c] = groups.map((g) => g.recipients[0]!);
  const spy = dsnSpy();
  await recordOutcomes(writer, "w1", "m1", [update(a!.id, a!.address, "bounced")], 3_000, spy.make);
  expect(spy.asked).toHaveLength(0); // b and c are still leased
  await recordOutcomes(writer, "w1", "m1", [update(b!.id, b!.address, "bounced")], 3_100, spy.make);
  expect(spy.asked).toHaveLength(0);
  await recordOutcomes(writer, "w1", "m1", [update(c!.id, c!.address, "delivered")], 3_200, spy.make);
  expect(spy.asked).toHaveLength(1);
  expect(spy.asked[0]!.map((d) => d.address)).toEqual(["a@one.test", "b@two.test"]);
  expect(spy.asked[0]![0]).toEqual({ address: "a@one.test", orcpt: null, reply: refused, remoteMta: "mx.test", at: 3_000 });
  const dsns = await client.execute("SELECT id FROM messages WHERE source = 'dsn'");
  expect(dsns.rows.map((r) => r.id)).toEqual(["dsn1"]);
  const row = (await client.execute(`SELECT last_reply, last_code, last_enhanced, last_text, dsn_due FROM recipients WHERE id = ${a!.id}`)).rows[0]!;
  expect([row.last_reply, row.last_code, row.last_enhanced, row.last_text, row.dsn_due]).toEqual(["550 5.1.1 no such user", 550, "5.1.1", "no such user", 0]);
  const ev = (await client.execute(`SELECT reply FROM events WHERE recipient = 'a@one.test'`)).rows[0]!;
  expect(JSON.parse(ev.reply as string)).toEqual(refused);
});

test("a deferred recipient does not hold the DSN back; its own later bounce gets a second one", async () => {
  const writer = await open();
  const [a, b, c] = (await leaseDueGroups(writer, "w1", 2_000, 60_000, 10)).map((g) => g.recipients[0]!);
  const spy = dsnSpy();
  await recordOutcomes(writer, "w1", "m1", [update(a!.id, a!.address, "bounced"), update(c!.id, c!.address, "bounced", false)], 3_000, spy.make);
  await recordOutcomes(writer, "w1", "m1", [update(b!.id, b!.address, "deferred")], 3_100, spy.make);
  // c said NOTIFY=NEVER (dsn_due false): only a is reported.
  expect(spy.asked.map((d) => d.map((x) => x.address))).toEqual([["a@one.test"]]);
  const [again] = (await leaseDueGroups(writer, "w2", 100_000, 60_000, 10)).map((g) => g.recipients[0]!);
  expect(again!.address).toBe("b@two.test");
  await recordOutcomes(writer, "w2", "m1", [update(again!.id, again!.address, "bounced")], 100_100, spy.make);
  expect(spy.asked.map((d) => d.map((x) => x.address))).toEqual([["a@one.test"], ["b@two.test"]]);
});

test("the DSN is counted in the account's windows although it would be over its limit", async () => {
  const writer = await open();
  const [a, b, c] = (await leaseDueGroups(writer, "w1", 2_000, 60_000, 10)).map((g) => g.recipients[0]!);
  await client.execute("INSERT INTO rate_counters (account_id, minute_start, minute_count, day_start, day_count) VALUES ('acct', 0, 1000, 0, 1000)");
  const spy = dsnSpy();
  await recordOutcomes(writer, "w1", "m1", [a, b, c].map((r) => update(r!.id, r!.address, "bounced")), 3_000, spy.make);
  expect(spy.asked).toHaveLength(1);
  const counter = (await client.execute("SELECT minute_count, day_count FROM rate_counters WHERE account_id = 'acct'")).rows[0]!;
  expect([counter.minute_count, counter.day_count]).toEqual([1001, 1001]);
});
