/**
 * Group commit: writes that arrive while a transaction is being prepared or committed go
 * into the next one, each inside its own SAVEPOINT. A job that throws is rolled back alone;
 * the others commit. Every job's promise settles only after COMMIT returned, so an
 * acknowledgement still means "durable", with one fsync shared by many messages.
 */
import type { Sql, SqlDatabase } from "./raw.ts";
import { SyncCoalescer } from "./wal-sync.ts";

// setImmediate where the runtime has it (Bun, Node, Deno); a zero timeout elsewhere (Workers).
const nextTurn: (f: () => void) => void = typeof setImmediate === "function" ? (f) => setImmediate(f) : (f) => setTimeout(f, 0);

interface Job {
  run: (sql: Sql) => Promise<unknown>;
  isolated: boolean;
  durable: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export interface GroupCommitOptions {
  /**
   * false gives every write its own transaction, run at once by its caller: on Workers a
   * transaction must be driven by the request that needs it, never by another.
   */
  batching?: boolean;
  maxBatch?: number;
  /**
   * Writes that are not durable wait up to this long for a durable write to share its
   * transaction (a delivery outcome rides with the next accepted message), instead of a
   * transaction of their own. 0 or absent: at once, like the others.
   */
  lazyMs?: number;
  /**
   * Syncs the WAL file (an embedded database): durable batches then COMMIT without waiting
   * for the disk and settle after the sync that follows (src/db/wal-sync.ts).
   */
  syncWal?: () => Promise<void>;
}

export interface WriteOptions {
  /** May fail on purpose (a limit reached): gets a SAVEPOINT, so its failure fails only itself. */
  isolated?: boolean;
  /** false: answered before the disk sync (leases, outcomes; a power loss can only repeat them). */
  durable?: boolean;
}

export class GroupCommit {
  private queue: Job[] = [];
  private running = false;
  private lazyTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly syncer: SyncCoalescer | null;

  constructor(
    private readonly client: SqlDatabase,
    private readonly options: GroupCommitOptions = {},
  ) {
    this.syncer = options.syncWal ? new SyncCoalescer(options.syncWal) : null;
  }

  /**
   * Runs `run` in the next group transaction. `isolated` jobs may fail on purpose (a limit
   * reached) and get a SAVEPOINT of their own; any other job that throws fails its batch.
   * `durable: false` only for writes nobody is answered on (see above).
   */
  write<T>(run: (sql: Sql) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    const { isolated = false, durable = true } = options;
    return new Promise<T>((resolve, reject) => {
      const job: Job = { run, isolated, durable, resolve: resolve as (v: unknown) => void, reject };
      if (this.options.batching === false) {
        void this.commit([job]);
        return;
      }
      this.queue.push(job);
      if (this.running) return;
      if (durable || !this.options.lazyMs) this.drainSoon(false);
      else this.waitForCompany();
    });
  }

  /** Lazy writes only: commit them when the wait is over, unless a durable write comes first. */
  private waitForCompany(): void {
    this.lazyTimer ??= setTimeout(() => this.drainSoon(true), this.options.lazyMs);
  }

  private drainSoon(lazyToo: boolean): void {
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.lazyTimer = null;
    if (this.running) return;
    this.running = true;
    // Embedded libSQL runs synchronously: without yielding once, no other write could
    // ever join. One turn of the event loop lets every session ready now add its own.
    nextTurn(() => void this.drain(lazyToo));
  }

  /** `lazyToo`: the wait is over, lazy writes go too even with no durable one among them. */
  private async drain(lazyToo: boolean): Promise<void> {
    let waiting = false;
    try {
      while (this.queue.length > 0) {
        // Only lazy writes arrived while the last group committed: they wait for company.
        if (!lazyToo && this.options.lazyMs && !this.queue.some((j) => j.durable)) {
          waiting = true;
          break;
        }
        lazyToo = false;
        await this.commit(this.queue.splice(0, this.options.maxBatch ?? 256));
      }
    } finally {
      this.running = false;
    }
    if (waiting) this.waitForCompany();
  }

  private async commit(batch: Job[]): Promise<void> {
    const settled: { job: Job; ok: boolean; value: unknown }[] = [];
    const durable = batch.some((j) => j.durable);
    try {
      const tx = await this.client.transaction("write", { durable: durable && this.syncer === null });
      try {
        for (const job of batch) {
          // With one job the transaction itself is its rollback unit.
          const savepoint = job.isolated && batch.length > 1;
          if (savepoint) await tx.execute("SAVEPOINT job");
          try {
            settled.push({ job, ok: true, value: await job.run(tx) });
            if (savepoint) await tx.execute("RELEASE job");
          } catch (err) {
            if (!savepoint) throw err;
            settled.push({ job, ok: false, value: err });
            await tx.execute("ROLLBACK TO job");
            await tx.execute("RELEASE job");
          }
        }
        await tx.commit();
      } finally {
        tx.close();
      }
    } catch (err) {
      // BEGIN or COMMIT failed: nothing of this batch is stored.
      for (const job of batch) job.reject(err);
      return;
    }
    const settle = () => {
      for (const s of settled) (s.ok ? s.job.resolve : s.job.reject)(s.value);
    };
    if (!durable || this.syncer === null) return settle();
    // Not awaited: the next group commits while this one's sync runs. A failed sync leaves
    // the group committed but not known durable: its writers are told it failed.
    this.syncer.sync().then(settle, (err: unknown) => {
      for (const job of batch) job.reject(err);
    });
  }
}
