/**
 * The house's import rules (.dependency-cruiser.cjs, drawn in docs/architecture.md): no
 * file circles, every folder on its floor, no import from a floor to its own or a higher
 * one — and, checked on its own from the same import graph, no cycle between folders.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dir, "..", "..");

interface Cruise {
  modules: { source: string; dependencies: { resolved: string }[] }[];
  summary: { violations: { rule: { name: string }; from: string; to: string; cycle?: { name: string }[] }[] };
}

function cruise(): Cruise {
  const cli = join(root, "node_modules", "dependency-cruiser", "bin", "dependency-cruiser.mjs");
  const r = spawnSync(process.execPath, [cli, "src", "--config", ".dependency-cruiser.cjs", "--output-type", "json"], { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0 && !r.stdout.startsWith("{")) throw new Error(`dependency-cruiser failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Cruise;
}

/** src/a/b.ts → "a"; a file at the top of src/ is its own node. */
const folderOf = (path: string) => /^src\/([^/]+)\//.exec(path)?.[1] ?? path.replace(/^src\//, "");

/** Tarjan's strongly connected components of size > 1: each one a cycle of folders. */
export function folderCycles(edges: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

// A thrown value turned into text with String(): the message alone, stack, code and causes lost.
const STRINGIFIED_ERROR = /\bString\((err|error|e|cause|reason)\)/;

/** Every .ts/.tsx file under src/, generated ones aside. */
function sources(dir = join(root, "src")): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !/\.(gen|d)\.ts$/.test(name) ? [path] : [];
  });
}

describe("the house's size and logging rules", () => {
  test("no file in src/ is over 400 lines", () => {
    const long = sources()
      .map((f) => ({ file: relative(root, f), lines: readFileSync(f, "utf8").split("\n").length }))
      .filter((f) => f.lines > 400);
    expect(long).toEqual([]);
  });

  test("a thrown value becomes text only in core/log.ts (errorFields for logs, errorText for replies)", () => {
    const offending = sources()
      .filter((f) => !f.endsWith(join("src", "core", "log.ts")))
      .flatMap((f) =>
        readFileSync(f, "utf8")
          .split("\n")
          .map((line, i) => ({ line, at: `${relative(root, f)}:${i + 1}` }))
          .filter(({ line }) => STRINGIFIED_ERROR.test(line))
          .map(({ at }) => at),
      );
    expect(offending).toEqual([]);
  });

  test("the rule sees a thrown value turned into text, in a log call or anywhere", () => {
    // Put together here, so that this file does not itself hold the line it describes.
    const stringified = ["String", "(err)"].join("");
    expect(STRINGIFIED_ERROR.test(`this.deps.log("lease_failed", { error: ${stringified} });`)).toBe(true);
    expect(STRINGIFIED_ERROR.test("return `lookup failed (${code || String(err)})`;")).toBe(true);
    expect(STRINGIFIED_ERROR.test('log("x", { error: errorFields(err) })')).toBe(false);
    expect(STRINGIFIED_ERROR.test("const n = String(count);")).toBe(false);
  });
});

describe("the house's import rules", () => {
  const result = cruise();

  test("every import keeps to the layers and no file reaches itself", () => {
    const lines = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.cycle ? v.cycle.map((c) => c.name).join(" → ") : v.to}`);
    expect(lines).toEqual([]);
  });

  test("no cycle between folders of src/", () => {
    const edges = new Map<string, Set<string>>();
    for (const m of result.modules) {
      if (!m.source.startsWith("src/")) continue;
      const from = folderOf(m.source);
      for (const d of m.dependencies) {
        if (!d.resolved.startsWith("src/")) continue;
        const to = folderOf(d.resolved);
        if (to === from) continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(to);
      }
    }
    expect(edges.size).toBeGreaterThan(10); // the graph was read, not empty
    expect(folderCycles(edges)).toEqual([]);
  });

  test("the cycle finder finds a cycle of folders and ignores a chain", () => {
    const graph = (pairs: [string, string][]) => {
      const m = new Map<string, Set<string>>();
      for (const [a, b] of pairs) m.set(a, (m.get(a) ?? new Set()).add(b));
      return m;
    };
    expect(folderCycles(graph([["a", "b"], ["b", "c"], ["c", "a"], ["c", "d"]]))).toEqual([["a", "b", "c"]]);
    expect(folderCycles(graph([["a", "b"], ["b", "c"], ["a", "c"]]))).toEqual([]);
  });
});
