/** Shapes: which one applies to a destination, and the shared pace with AIMD, on a real libSQL file. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { addShape, listShapes, removeShape, shapeFor, DEFAULT_SHAPES, loadShapes } from "../../../src/shaping/shapes.ts";
import { slowDown, speedUp, takePace } from "../../../src/shaping/pace.ts";
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
  expect(await takePace(sql, "d", 120, 0)).toEqual({ ok: true });
  expect(await takePace(sql, "d", 120, 100)).toEqual({ ok: false, until: 500 });
  expect(await takePace(sql, "d", 120, 500)).toEqual({ ok: true });
  expect(await slowDown(sql, "d", 600)).toBe(60);
  // Now one a second: the slot after the slowdown is a full new spacing away.
  expect(await takePace(sql, "d", 120, 1000)).toEqual({ ok: false, until: 1600 });
  expect(await takePace(sql, "d", 120, 1600)).toEqual({ ok: true });
  expect(await takePace(sql, "d", 120, 2000)).toEqual({ ok: false, until: 2600 });
  for (let i = 0; i < 4; i++) await speedUp(sql, "d", 120, 3000);
  const rate = Number((await sql.execute("SELECT rate FROM destination_pace WHERE destination = 'd'")).rows[0]!.rate);
  expect(rate).toBe(108);
  for (let i = 0; i < 4; i++) await speedUp(sql, "d", 120, 3000);
  expect(Number((await sql.execute("SELECT rate FROM destination_pace WHERE destination = 'd'")).rows[0]!.rate)).toBe(120);
});
