/**
 * The delivery worker's view of shapes: which shape a destination falls under (operator
 * rows re-read every few seconds; MX names looked up only when an MX pattern could
 * match), its next pace slot, and what a destination's answer does to its pace.
 */
import type { Db } from "../db/client.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import type { Logger } from "../core/log.ts";
import type { RecipientResult } from "../core/delivery-result.ts";
import { Cached, CachedMap } from "../util/cached.ts";
import { slowDown, speedUp, takePace, type PaceOutcome } from "./pace.ts";
import { loadShapes, shapeFor, type Shape } from "./shapes.ts";

const SHAPES_CACHE_MS = 5_000;
const MX_CACHE_MS = 300_000;

/**
 * "Try later" from a destination (not a relay): 421 (RFC 5321 §3.8, closing for now), or
 * a 4.7.x, the class the big providers use for rate and reputation deferrals (Gmail's
 * 421 4.7.28, Yahoo's 421 4.7.0 [TSS04], Microsoft's 451 4.7.500-699).
 */
export function saysTryLater(r: RecipientResult): boolean {
  return r.outcome === "transient" && (r.reply.code === 421 || /^4\.7\./.test(r.reply.enhanced ?? ""));
}

export class DestinationShaper {
  private readonly shapes = new Cached(SHAPES_CACHE_MS, () => loadShapes(this.deps.db));
  private readonly mxNames = new CachedMap(MX_CACHE_MS, (domain: string) => this.deps.mxNamesOf(domain).catch(() => [] as string[]));

  constructor(private readonly deps: { db: Db; writer: GroupCommit; log: Logger; mxNamesOf: (domain: string) => Promise<string[]> }) {}

  /** The shape for mail to `domain`; MX names are looked up only for direct MX delivery and when a pattern might match them. */
  async shapeOf(domain: string, direct: boolean, now: number): Promise<Shape | null> {
    const shapes = await this.shapes.get(now);
    const byDomain = shapeFor(shapes, domain);
    if (byDomain || !direct || !shapes.some((s) => s.pattern.startsWith("*."))) return byDomain;
    return shapeFor(shapes, domain, await this.mxNames.get(domain.toLowerCase(), now));
  }

  admit(shape: Shape, now: number): Promise<PaceOutcome> {
    if (shape.perMinute === null) return Promise.resolve({ ok: true });
    return this.deps.writer.writePlan(takePace(shape.pattern, shape.perMinute!, now));
  }

  /** A destination's answers: "try later" halves its pace, a delivery raises it a step. */
  async observe(shape: Shape, results: RecipientResult[], now: number): Promise<void> {
    if (shape.perMinute === null) return;
    const later = results.find(saysTryLater);
    if (later) {
      const rate = await this.deps.writer.writePlan(slowDown(shape.pattern, now));
      this.deps.log("destination_slowed", { destination: shape.pattern, rate_per_minute: rate, reply: `${later.reply.code} ${later.reply.enhanced ?? ""}`.trim() });
    } else if (results.some((r) => r.outcome === "delivered")) {
      await this.deps.writer.writePlan(speedUp(shape.pattern, shape.perMinute!, now));
    }
  }
}
