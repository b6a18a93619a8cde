/** A value loaded on demand and kept for a while (one load at a time). */
export class Cached<T> {
  private value: T | undefined;
  private loadedAt = -Infinity;
  private loading: Promise<T> | null = null;

  constructor(private readonly ttlMs: number, private readonly load: () => Promise<T>) {}

  async get(now: number): Promise<T> {
    if (this.value !== undefined && now - this.loadedAt < this.ttlMs) return this.value;
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
