import { afterEach, expect, jest, test } from "bun:test";
import { createClient, type Client } from "@libsql/client";
import { join } from "node:path";
import { GroupCommit } from "../../../src/db/group-commit.ts";
import type { Sql } from "../../../src/db/raw.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

let dir: string;
let client: Client;
afterEach(() => {
  client?.close();
  removeDir(dir);
});

async function setup() {
  dir = tempDir();
  client = createClient({ url: `file:${join(dir, "g.db")}` });
  await client.execute("CREATE TABLE t (v TEXT UNIQUE)");
  return new GroupCommit(client);
}
const count = async () => Number((await client.execute("SELECT count(*) AS n FROM t")).rows[0]!.n);
const insert = (v: string) => async (sql: Sql) => {
  await sql.execute({ sql: "INSERT INTO t (v) VALUES (?)", args: [v] });
  return v;
};

test("writes issued together commit in one transaction and each settles after it", async () => {
  const g = await setup();
  const results = await Promise.all(["a", "b", "c"].map((v) => g.write(insert(v))));
  expect(results).toEqual(["a", "b", "c"]);
  expect(await count()).toBe(3);
});

test("an isolated job that fails is rolled back alone", async () => {
  const g = await setup();
  const failing = g.write(async (sql) => {
    await sql.execute({ sql: "INSERT INTO t (v) VALUES ('x')", args: [] });
    throw new Error("limit reached");
  }, { isolated: true });
  const ok = g.write(insert("y"));
  await expect(failing).rejects.toThrow("limit reached");
  expect(await ok).toBe("y");
  expect((await client.execute("SELECT v FROM t")).rows.map((r) => r.v)).toEqual(["y"]);
});

test("a job that fails unexpectedly fails its whole batch: nothing is acknowledged", async () => {
  const g = await setup();
  const settled = await Promise.allSettled([g.write(insert("same")), g.write(insert("same"))]); // the second violates UNIQUE
  expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected"]);
  expect(await count()).toBe(0);
  expect(await g.write(insert("later"))).toBe("later");
});

test("without batching every write is its own transaction (Workers)", async () => {
  await setup();
  const g = new GroupCommit(client, { batching: false });
  const settled = await Promise.allSettled([g.write(insert("one")), g.write(insert("one"))]);
  expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected"]);
  expect(await count()).toBe(1);
});

test("without batching, no more than three writes are on the way at once, and every one commits", async () => {
  await setup();
  let inFlight = 0;
  let most = 0;
  // The real file database, each request held 20 ms as a remote one would be.
  const slow = {
    execute: (s: Parameters<Client["execute"]>[0]) => client.execute(s),
    transaction: (mode: "write") => client.transaction(mode),
    batch: async (stmts: Parameters<Client["batch"]>[0], mode: "write") => {
      most = Math.max(most, ++inFlight);
      try {
        await Bun.sleep(20);
        return await client.batch(stmts, mode);
      } finally {
        inFlight--;
      }
    },
  };
  const g = new GroupCommit(slow, { batching: false });
  const plan = (v: string) => ({ statements: [{ sql: "INSERT INTO t (v) VALUES (?)", args: [v] }], decode: () => v });
  const values = Array.from({ length: 12 }, (_, i) => `w${i}`);
  expect(await Promise.all(values.map((v) => g.writePlan(plan(v))))).toEqual(values);
  expect(most).toBe(3);
  expect(await count()).toBe(12);
});

test("lazy writes: alone they commit when the wait is over; with a durable write they share its transaction at once", async () => {
  await setup();
  let transactions = 0;
  const counting = {
    execute: (s: Parameters<Client["execute"]>[0]) => client.execute(s),
    transaction: async (mode: "write") => {
      transactions++;
      return client.transaction(mode);
    },
  };
  // The wait is a timer: the test moves the clock by hand (setImmediate stays real).
  jest.useFakeTimers();
  try {
    const g = new GroupCommit(counting, { lazyMs: 40 });
    const lone = g.write(insert("outcome-1"), { durable: false });
    jest.advanceTimersByTime(39);
    // A write that did not wait would have begun its transaction on this turn.
    await new Promise((r) => setImmediate(r));
    expect(transactions).toBe(0);
    jest.advanceTimersByTime(1);
    await lone;
    // Nothing else came: when the wait was over it had a transaction of its own.
    expect(transactions).toBe(1);

    const outcome = g.write(insert("outcome-2"), { durable: false });
    // The clock no longer moves: only the durable write can carry the waiting outcome.
    await Promise.all([g.write(insert("accepted")), outcome]);
    expect(transactions).toBe(2);
    expect(await count()).toBe(3);
  } finally {
    jest.useRealTimers();
  }
});
