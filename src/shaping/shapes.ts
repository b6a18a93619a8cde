/**
 * Shapes: how hard to push one destination — concurrent deliveries (per node) and
 * messages per minute (across nodes, src/shaping/pace.ts). A shape names a recipient
 * domain ("gmail.com") or an MX host pattern ("*.google.com", matched against the
 * domain's MX names, so every domain hosted there shares one pace).
 *
 * Built-in defaults for the big mailbox providers apply where no operator row matches;
 * they are deliberately below what these providers accept from a new sender, so a burst
 * warms up instead of drawing 421 4.7.28 / 4.7.0 deferrals.
 */
import { asc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { destinationShapes } from "../db/schema-shaping.ts";
import { isDomain } from "../smtp/address.ts";
import { Failure } from "../core/failure.ts";

export interface Shape {
  pattern: string;
  connections: number | null;
  perMinute: number | null;
  /** Built in (not from `shape add`). */
  builtIn: boolean;
}

const builtIn = (pattern: string, connections: number, perMinute: number): Shape => ({ pattern, connections, perMinute, builtIn: true });

/** Gmail, Microsoft consumer mail, Yahoo/AOL: by their MX hosts, so every domain they host shares one pace. */
export const DEFAULT_SHAPES: readonly Shape[] = [
  builtIn("*.google.com", 5, 600),
  builtIn("*.outlook.com", 5, 600),
  builtIn("*.yahoodns.net", 3, 300),
];

/** A domain, or "*." + a domain for MX host names under it. */
export function checkPattern(raw: string): string {
  const p = raw.toLowerCase().replace(/\.$/, "");
  const bare = p.startsWith("*.") ? p.slice(2) : p;
  if (!isDomain(bare, true) || !bare.includes(".")) throw new Failure("invalid", `"${raw}" is not a domain or an MX host pattern like *.google.com`);
  return p;
}

function matches(pattern: string, name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, "");
  return pattern.startsWith("*.") ? n.endsWith(pattern.slice(1)) : n === pattern;
}

/**
 * The shape for a recipient domain with its MX host names (when known): an exact domain
 * row first, then a pattern matching the domain or one of its MX hosts; operator rows
 * before the built-in ones.
 */
export function shapeFor(shapes: readonly Shape[], domain: string, mxHosts: readonly string[] = []): Shape | null {
  const ordered = [...shapes.filter((s) => !s.builtIn), ...shapes.filter((s) => s.builtIn)];
  return ordered.find((s) => s.pattern === domain.toLowerCase()) ?? ordered.find((s) => matches(s.pattern, domain) || mxHosts.some((h) => matches(s.pattern, h))) ?? null;
}

/** Operator rows and the built-in defaults not overridden, as delivery uses them. */
export async function loadShapes(db: Db): Promise<Shape[]> {
  const rows = await db.select().from(destinationShapes).orderBy(asc(destinationShapes.pattern));
  const own: Shape[] = rows.map((r) => ({ pattern: r.pattern, connections: r.connections, perMinute: r.perMinute, builtIn: false }));
  return [...own, ...DEFAULT_SHAPES.filter((d) => !own.some((o) => o.pattern === d.pattern))];
}

const positive = (n: number | null | undefined, flag: string) => {
  if (n !== undefined && n !== null && (!Number.isSafeInteger(n) || n < 1)) throw new Failure("invalid", `${flag} must be a whole number of at least 1`);
};

/** Adds or replaces the shape of `pattern`. */
export async function addShape(db: Db, raw: string, s: { connections?: number | null; perMinute?: number | null }, now: number): Promise<Shape> {
  const pattern = checkPattern(raw);
  positive(s.connections, "connections");
  positive(s.perMinute, "per-minute");
  if (s.connections == null && s.perMinute == null) throw new Failure("invalid", "give --connections and/or --per-minute");
  const row = { pattern, connections: s.connections ?? null, perMinute: s.perMinute ?? null, createdAt: now };
  await db.insert(destinationShapes).values(row).onConflictDoUpdate({ target: destinationShapes.pattern, set: { connections: row.connections, perMinute: row.perMinute } });
  return { pattern, connections: row.connections, perMinute: row.perMinute, builtIn: false };
}

export async function removeShape(db: Db, raw: string): Promise<string> {
  const pattern = checkPattern(raw);
  const gone = await db.delete(destinationShapes).where(eq(destinationShapes.pattern, pattern)).returning({ p: destinationShapes.pattern });
  if (gone.length === 0) {
    const hint = DEFAULT_SHAPES.some((d) => d.pattern === pattern) ? " (a built-in default: override it with shape add)" : "";
    throw new Failure("not-found", `no shape for ${pattern}${hint}`);
  }
  return pattern;
}

export interface ShapeRow {
  pattern: string;
  connections: number | null;
  per_minute: number | null;
  /** The pace now (messages per minute), lower than per_minute after "try later" answers. */
  rate_now: number | null;
  source: "operator" | "default";
}

/** `shape list`, the admin API and the dashboard. */
export async function listShapes(db: Db): Promise<ShapeRow[]> {
  const shapes = await loadShapes(db);
  const pace = new Map((await db.$client.execute("SELECT destination, rate FROM destination_pace")).rows.map((r) => [String(r.destination), Number(r.rate)]));
  return shapes.map((s) => ({ pattern: s.pattern, connections: s.connections, per_minute: s.perMinute, rate_now: pace.get(s.pattern) ?? s.perMinute, source: s.builtIn ? "default" : "operator" }));
}
