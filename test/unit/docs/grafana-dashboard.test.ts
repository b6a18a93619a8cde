/**
 * docs/grafana-smarthost.json: well-formed JSON that Grafana imports (unique panel ids, a
 * grid that fits, every query on the dashboard's Prometheus variable), with the panels an
 * operator alerts on, and every metric it queries exported on /metrics under that name and type.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createMetrics } from "../../../src/gateway/metrics.ts";
import { removeDir } from "../../support/relay.ts";
import { openShapingDb, type ShapingDb } from "../../support/shaping.ts";

const FILE = join(import.meta.dir, "..", "..", "..", "docs", "grafana-smarthost.json");

interface Target {
  refId: string;
  expr: string;
  datasource?: { uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  templating: { list: { name: string; type: string; query: string }[] };
  panels: Panel[];
}

const dashboard = JSON.parse(readFileSync(FILE, "utf8")) as Dashboard;
const queries = dashboard.panels.filter((p) => p.type !== "row");
const exprs = queries.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

let db: ShapingDb;
let exported = new Map<string, string>();

beforeAll(async () => {
  db = await openShapingDb("metrics.db");
  const text = await createMetrics(db.database.db).render();
  exported = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
});
afterAll(() => {
  db?.database.close();
  if (db) removeDir(db.dir);
});

describe("the Grafana dashboard", () => {
  test("is a dashboard Grafana imports: unique ids, a grid 24 columns wide without overlaps, queries on its Prometheus variable", () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const g = p.gridPos;
      expect(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0).toBe(true);
      for (let x = g.x; x < g.x + g.w; x++) for (let y = g.y; y < g.y + g.h; y++) {
        expect(cells.has(`${x},${y}`)).toBe(false);
        cells.add(`${x},${y}`);
      }
    }
    const variable = dashboard.templating.list.find((v) => v.type === "datasource" && v.query === "prometheus")!;
    expect(variable).toBeDefined();
    for (const p of queries) {
      expect(p.datasource).toEqual({ type: "prometheus", uid: `\${${variable.name}}` });
      expect(p.targets!.length).toBeGreaterThan(0);
      const refs = p.targets!.map((t) => t.refId);
      expect(new Set(refs).size).toBe(refs.length);
    }
    for (const e of exprs) {
      // Brackets balance in every query (a cut-off expression is the usual slip).
      let depth = 0;
      for (const ch of e) {
        depth += "([{".includes(ch) ? 1 : ")]}".includes(ch) ? -1 : 0;
        expect(depth).toBeGreaterThanOrEqual(0);
      }
      expect(depth).toBe(0);
    }
  });

  test("has the panels an operator alerts on", () => {
    const uses = (name: string) => exprs.some((e) => e.includes(name));
    for (const name of [
      "smarthost_messages_accepted_total",
      "smarthost_submissions_rejected_total",
      "smarthost_deliveries_total",
      "smarthost_delivery_seconds_bucket",
      "smarthost_accept_seconds_bucket",
      "smarthost_queue_recipients",
      "smarthost_webhook_deliveries_total",
      "smarthost_route_breaker_state",
      "smarthost_delivery_tls_total",
    ]) expect(uses(name)).toBe(true);
    for (const q of [0.5, 0.99]) {
      expect(exprs.some((e) => e.startsWith(`histogram_quantile(${q},`) && e.includes("smarthost_delivery_seconds_bucket"))).toBe(true);
      expect(exprs.some((e) => e.startsWith(`histogram_quantile(${q},`) && e.includes("smarthost_accept_seconds_bucket"))).toBe(true);
    }
  });

  test("every metric it queries is on /metrics, a histogram's series under its histogram", () => {
    const named = new Set(exprs.flatMap((e) => [...e.matchAll(/\bsmarthost_[a-z_]+/g)].map((m) => m[0])));
    expect(named.size).toBeGreaterThanOrEqual(9);
    for (const name of named) {
      const base = name.replace(/_(bucket|sum|count)$/, "");
      if (base !== name && exported.get(base) === "histogram") continue;
      expect([name, exported.has(name)]).toEqual([name, true]);
    }
  });
});
