/**
 * Concurrency per destination: at most `total` deliveries at once and `perKey` to one
 * destination. Work for a busy destination waits (a bounded number per destination);
 * past that it is refused, so one slow or stuck destination cannot hold the worker while
 * other destinations have work.
 */
export type Offer = "start" | "wait" | "refuse";

export class Slots<T> {
  private active = 0;
  private readonly activeByKey = new Map<string, number>();
  private readonly waiting = new Map<string, T[]>();
  private waitingCount = 0;
  /** Destinations with their own concurrency (a shape's --connections) instead of perKey. */
  private readonly limits = new Map<string, number>();

  constructor(
    private readonly total: number,
    private readonly perKey: number,
    private readonly maxWaitingPerKey: number,
  ) {}

  /** Work started or waiting here. */
  get held(): number {
    return this.active + this.waitingCount;
  }

  /** `limit`: this destination's own concurrency, when it has one (kept for the key). */
  offer(key: string, item: T, limit?: number): Offer {
    if (limit !== undefined) this.limits.set(key, limit);
    else this.limits.delete(key);
    if (this.canStart(key)) {
      this.begin(key);
      return "start";
    }
    const queue = this.waiting.get(key) ?? [];
    if (queue.length >= this.maxWaitingPerKey) return "refuse";
    queue.push(item);
    this.waiting.set(key, queue);
    this.waitingCount++;
    return "wait";
  }

  /** Ends one delivery to `key`; returns waiting work that may start now (already counted as started). */
  finish(key: string): { key: string; item: T }[] {
    this.active--;
    const n = (this.activeByKey.get(key) ?? 1) - 1;
    if (n <= 0) this.activeByKey.delete(key);
    else this.activeByKey.set(key, n);
    const ready: { key: string; item: T }[] = [];
    // The destination that freed a slot first, then any other with room.
    for (const k of [key, ...this.waiting.keys()]) {
      const queue = this.waiting.get(k);
      while (queue && queue.length > 0 && this.canStart(k)) {
        ready.push({ key: k, item: queue.shift()! });
        this.waitingCount--;
        this.begin(k);
      }
      if (queue && queue.length === 0) this.waiting.delete(k);
    }
    return ready;
  }

  /** Everything still waiting (to hand back on shutdown). */
  drainWaiting(): T[] {
    const all = [...this.waiting.values()].flat();
    this.waiting.clear();
    this.waitingCount = 0;
    return all;
  }

  private canStart(key: string): boolean {
    return this.active < this.total && (this.activeByKey.get(key) ?? 0) < (this.limits.get(key) ?? this.perKey);
  }

  private begin(key: string): void {
    this.active++;
    this.activeByKey.set(key, (this.activeByKey.get(key) ?? 0) + 1);
  }
}
