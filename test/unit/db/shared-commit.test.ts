/** SharedCommit: the writes of several participants in one transaction, each rolled back alone. */
import { afterEach, expect, test } from "bun:test";
import { createClient, type Client } from "@libsql/client";
import { join } from "node:path";
import { GroupCommit } from "../../../src/db/group-commit.ts";
import { SharedCommit } from "../../../src/db/shared-commit.ts";
import type { Plan, Sql } from "../../../src/db/raw.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

let dir: string;
let client: Client;
afterEach(() => {
  client?.close();
  removeDir(dir);
});

/** A GroupCommit that counts its transactions (one `write` each when not batching). */
async function setup() {
  dir = tempDir();
  client = createClient({ url: `file:${join(dir, "s.db")}` });
  await client.execute("CREATE TABLE t (v TEXT UNIQUE)");
  const g = new GroupCommit(client, { batching: false });
  const counted = {
    transactions: 0,
    write: <T>(run: (sql: Sql) => Promise<T>, o?: Parameters<GroupCommit["write"]>[1]) => (counted.transactions++, g.write(run, o)),
    writePlan: <T>(plan: Plan<T>, o?: Parameters<GroupCommit["writePlan"]>[1]) => (counted.transactions++, g.writePlan(plan, o)),
  };
  return counted;
}
const rows = async () => (await client.execute("SELECT v FROM t ORDER BY rowid")).rows.map((r) => r.v);
const insert = (v: string) => async (sql: Sql) => {
  await sql.execute({ sql: "INSERT INTO t (v) VALUES (?)", args: [v] });
  return v;
};

test("every slot's write goes in one transaction, only once every slot has written or closed", async () => {
  const w = await setup();
  const shared = new SharedCommit(w);
  const [a, b, c] = [shared.slot(), shared.slot(), shared.slot()];
  const pa = a.write(insert("a"));
  const pc = c.write(insert("c"));
  expect(w.transactions).toBe(0); // b has neither written nor closed
  b.close();
  expect(await Promise.all([pa, pc])).toEqual(["a", "c"]);
  expect(w.transactions).toBe(1);
  expect(await rows()).toEqual(["a", "c"]);
});

test("a write that throws is rolled back alone; the others commit", async () => {
  const w = await setup();
  const shared = new SharedCommit(w);
  const slots = [shared.slot(), shared.slot(), shared.slot()];
  const results = await Promise.allSettled([
    slots[0]!.write(insert("x")),
    slots[1]!.write(async (sql) => {
      await sql.execute("INSERT INTO t (v) VALUES ('refused')");
      throw new Error("over the limit");
    }),
    slots[2]!.write(insert("x")), // UNIQUE: fails alone too
  ]);
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected"]);
  expect((results[1] as PromiseRejectedResult).reason.message).toBe("over the limit");
  expect(w.transactions).toBe(1);
  expect(await rows()).toEqual(["x"]);
});

test("with every slot closed unwritten, nothing is written", async () => {
  const w = await setup();
  const shared = new SharedCommit(w);
  shared.slot().close();
  shared.slot().close();
  expect(w.transactions).toBe(0);
});
