let sharedLoads = true;

/**
 * false on Workers: a caller never awaits a load another request started (workerd cancels a
 * request that waits on another's I/O as hung); values, once loaded, are still shared.
 */
export function shareLoadsAcrossCallers(share: boolean): void {
  sharedLoads = share;
}

export const loadsShared = () => sharedLoads;

/** A value loaded on demand and kept for a while (one load at a time where loads are shared). */
export class Cached<T> {
  private value: T | undefined;
  private loadedAt = -Infinity;
  private loading: Promise<T> | null = null;

  constructor(private readonly ttlMs: number, private readonly load: () => Promise<T>) {}

  async get(now: number): Promise<T> {
    if (this.value !== undefined && now - this.loadedAt < this.ttlMs) return this.value;
    if (!sharedLoads) {
      const v = await this.load();
      this.value = v;
      this.loadedAt = now;
      return v;
    }
    this.loading ??= this.load().then(
      (v) => {
        this.value = v;
        this.loadedAt = now;
        this.loading = null;
        return v;
      },
      (err) => {
        this.loading = null;
        throw err;
      },
    );
    return this.loading;
  }
}

/**
 * Cached values by key (an account, an API key id, a domain). Bounded: past `maxKeys`
 * everything is dropped and reloaded on demand.
 */
export class CachedMap<K, T> {
  private readonly entries = new Map<K, Cached<T>>();

  constructor(
    private readonly ttlMs: number,
    private readonly load: (key: K) => Promise<T>,
    private readonly maxKeys = 10_000,
  ) {}

  get(key: K, now: number): Promise<T> {
    let entry = this.entries.get(key);
    if (!entry) {
      if (this.entries.size >= this.maxKeys) this.entries.clear();
      entry = new Cached(this.ttlMs, () => this.load(key));
      this.entries.set(key, entry);
    }
    return entry.get(now);
  }
}
