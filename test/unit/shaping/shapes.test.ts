/** Shapes: which one applies to a destination, and the shared pace with AIMD, on a real libSQL file. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { addShape, listShapes, removeShape, shapeFor, DEFAULT_SHAPES, loadShapes } from "../../../src/shaping/shapes.ts";
import { slowDown, speedUp, takePace } from "../../../src/shaping/pace.ts";
import { runPlan, type SqlDatabase } from "../../../src/db/raw.ts";
import { GroupCommit } from "../../../src/db/group-commit.ts";
import { DestinationShaper } from "../../../src/shaping/destination-gate.ts";
import { reply } from "../../../src/core/reply.ts";
import { removeDir } from "../../support/relay.ts";
import { openShapingDb, type ShapingDb } from "../../support/shaping.ts";

let s: ShapingDb;
beforeAll(async () => {
  s = await openShapingDb("shapes.db");
});
afterAll(() => {
  s.database.close();
  removeDir(s.dir);
});

test("a domain row first, then a pattern on the domain or its MX names; operator rows before the defaults", async () => {
  expect(shapeFor(DEFAULT_SHAPES, "gmail.com")).toBeNull(); // no MX names known yet
  expect(shapeFor(DEFAULT_SHAPES, "gmail.com", ["gmail-smtp-in.l.google.com."])?.pattern).toBe("*.google.com");
  expect(shapeFor(DEFAULT_SHAPES, "company.example", ["company-example.mail.protection.outlook.com"])?.pattern).toBe("*.outlook.com");
  await addShape(s.database.db, "*.google.com", { connections: 2, perMinute: 60 }, 0);
  await addShape(s.database.db, "Example.ORG", { perMinute: 30 }, 0);
  const shapes = await loadShapes(s.database.db);
  expect(shapeFor(shapes, "gmail.com", ["alt1.gmail-smtp-in.l.google.com"])).toMatchObject({ connections: 2, perMinute: 60, builtIn: false });
  expect(shapeFor(shapes, "example.org", ["mx.google.com"])?.pattern).toBe("example.org");
  expect(shapeFor(shapes, "sub.example.org")).toBeNull();
  expect((await listShapes(s.database.db)).map((r) => [r.pattern, r.source])).toEqual([
    ["*.google.com", "operator"],
    ["example.org", "operator"],
    ["*.outlook.com", "default"],
    ["*.yahoodns.net", "default"],
  ]);
  await expect(addShape(s.database.db, "not a domain", { perMinute: 1 }, 0)).rejects.toThrow("is not a domain");
  await expect(addShape(s.database.db, "x.test", { perMinute: 0 }, 0)).rejects.toThrow("per-minute must be a whole number");
  await expect(removeShape(s.database.db, "*.yahoodns.net")).rejects.toThrow("a built-in default");
  expect(await removeShape(s.database.db, "example.org")).toBe("example.org");
});

test("the pace spaces sends 60 s / rate apart; try-later halves the rate, deliveries raise it back a step at a time", async () => {
  const sql = s.database.sql;
  expect(await runPlan(sql, takePace("d", 120, 0))).toEqual({ ok: true });
  expect(await runPlan(sql, takePace("d", 120, 100))).toEqual({ ok: false, until: 500 });
  expect(await runPlan(sql, takePace("d", 120, 500))).toEqual({ ok: true });
  expect(await runPlan(sql, slowDown("d", 600))).toBe(60);
  // Now one a second: the slot after the slowdown is a full new spacing away.
  expect(await runPlan(sql, takePace("d", 120, 1000))).toEqual({ ok: false, until: 1600 });
  expect(await runPlan(sql, takePace("d", 120, 1600))).toEqual({ ok: true });
  expect(await runPlan(sql, takePace("d", 120, 2000))).toEqual({ ok: false, until: 2600 });
  for (let i = 0; i < 4; i++) await runPlan(sql, speedUp("d", 120, 3000));
  const rate = Number((await sql.execute("SELECT rate FROM destination_pace WHERE destination = 'd'")).rows[0]!.rate);
  expect(rate).toBe(108);
  for (let i = 0; i < 4; i++) await runPlan(sql, speedUp("d", 120, 3000));
  expect(Number((await sql.execute("SELECT rate FROM destination_pace WHERE destination = 'd'")).rows[0]!.rate)).toBe(120);
});

test("the shaper's slot, slow-down and speed-up each go as one plan (one request to a remote server), never a transaction", async () => {
  const client = s.database.client;
  const counted = { transactions: 0, batches: 0 };
  const counting: SqlDatabase = {
    execute: (stmt) => client.execute(stmt),
    transaction: async (mode) => (counted.transactions++, client.transaction(mode)),
    batch: async (stmts, mode) => (counted.batches++, client.batch(stmts, mode)),
  };
  const shaper = new DestinationShaper({ db: s.database.db, writer: new GroupCommit(counting), log: () => {}, mxNamesOf: async () => [] });
  const shape = { pattern: "paced.test", connections: null, perMinute: 60, builtIn: false };
  expect(await shaper.admit(shape, 10_000)).toEqual({ ok: true });
  expect(await shaper.admit(shape, 10_001)).toEqual({ ok: false, until: 11_000 });
  const result = (code: number, enhanced: string, outcome: "delivered" | "transient") => ({ address: "a@paced.test", outcome, scope: "recipient" as const, reply: reply(code, enhanced, "x") });
  await shaper.observe(shape, [result(421, "4.7.0", "transient")], 20_000);
  await shaper.observe(shape, [result(250, "2.0.0", "delivered")], 30_000);
  expect(Number((await client.execute("SELECT rate FROM destination_pace WHERE destination = 'paced.test'")).rows[0]!.rate)).toBe(36);
  expect(counted).toEqual({ transactions: 0, batches: 4 });
});
