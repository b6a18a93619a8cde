/**
 * Group commit: writes that arrive while a transaction is being prepared or committed go
 * into the next one, each inside its own SAVEPOINT. A job that throws is rolled back alone;
 * the others commit. Every job's promise settles only after COMMIT returned, so an
 * acknowledgement still means "durable", with one fsync shared by many messages.
 */
import { runPlan, type Plan, type Sql, type SqlDatabase, type SqlResult } from "./raw.ts";
import { SyncCoalescer } from "./wal-sync.ts";

// setImmediate where the runtime has it (Bun, Node, Deno); a zero timeout elsewhere (Workers).
const nextTurn: (f: () => void) => void = typeof setImmediate === "function" ? (f) => setImmediate(f) : (f) => setTimeout(f, 0);

interface Job {
  run: (sql: Sql) => Promise<unknown>;
  /** A plan: on a connection that batches, its statements travel with the others' in one request. */
  plan?: Plan<unknown>;
  isolated: boolean;
  durable: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export interface GroupCommitOptions {
  /**
   * false gives every write its own transaction, driven by its caller: on Workers a
   * transaction must be driven by the request that needs it, never by another. No more
   * than three go at once (see WriteGate).
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
  private readonly gate = new WriteGate();

  constructor(
    private readonly client: SqlDatabase,
    private readonly options: GroupCommitOptions = {},
  ) {
    this.syncer = options.syncWal ? new SyncCoalescer(options.syncWal) : null;
  }

  /** The connection, for reads that need no transaction (outside the write lock). */
  get connection(): Sql {
    return this.client;
  }

  /**
   * Runs `run` in the next group transaction. `isolated` jobs may fail on purpose (a limit
   * reached) and get a SAVEPOINT of their own; any other job that throws fails its batch.
   * `durable: false` only for writes nobody is answered on (see above).
   */
  write<T>(run: (sql: Sql) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    return this.enqueue<T>({ run, isolated: options.isolated ?? false, durable: options.durable ?? true });
  }

  /**
   * Runs a plan in the next group transaction. Where the connection batches (a remote
   * libSQL server), every plan of the group goes in one request: one round trip and the
   * server's write lock held for no round trip at all. Elsewhere its statements run in the
   * group's transaction like any job's. A plan is always isolated: it fails alone.
   */
  writePlan<T>(plan: Plan<T>, options: Pick<WriteOptions, "durable"> = {}): Promise<T> {
    return this.enqueue<T>({ run: (sql) => runPlan(sql, plan), plan, isolated: true, durable: options.durable ?? true });
  }

  private enqueue<T>(spec: Pick<Job, "run" | "plan" | "isolated" | "durable">): Promise<T> {
    const durable = spec.durable;
    return new Promise<T>((resolve, reject) => {
      const job: Job = { ...spec, resolve: resolve as (v: unknown) => void, reject };
      if (this.options.batching === false) {
        void this.gate.around(() => this.commit([job]));
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
        // One group at a time, on a remote server too: batches sent side by side only queue
        // for its write lock there (measured: 349 msg/s one at a time, 64 with four on the way).
        await this.commit(this.queue.splice(0, this.options.maxBatch ?? 256));
      }
    } finally {
      this.running = false;
    }
    if (waiting) this.waitForCompany();
  }

  private async commit(batch: Job[]): Promise<void> {
    const batches = this.client.batch !== undefined;
    const plans = batches ? batch.filter((j) => j.plan) : [];
    if (plans.length > 0) await this.commitPlans(plans);
    const rest = plans.length > 0 ? batch.filter((j) => !j.plan) : batch;
    if (rest.length > 0) await this.commitInteractive(rest);
  }

  /**
   * Every plan's statements in one batch (one transaction, one request). A batch that
   * fails as a whole (a statement no plan expected to fail) is retried plan by plan, so
   * only the faulty one is refused. Committed on the server before anyone is answered.
   */
  private async commitPlans(jobs: Job[], busy = new BusyWait()): Promise<void> {
    let results: SqlResult[];
    try {
      results = await this.client.batch!(jobs.flatMap((j) => j.plan!.statements), "write");
    } catch (err) {
      // The server's write lock was taken (another node or request): nothing ran; try again.
      if (isBusy(err) && (await busy.again())) return this.commitPlans(jobs, busy);
      // Only a statement the server refused tells that nothing was committed: then each plan
      // is tried alone. A timeout or a lost connection leaves the outcome unknown — a retry
      // could store a message twice — so every writer is told it failed (451 / 503).
      if (jobs.length === 1 || !refusedByServer(err)) {
        for (const job of jobs) job.reject(err);
        return;
      }
      for (const job of jobs) await this.commitPlans([job]);
      return;
    }
    let at = 0;
    for (const job of jobs) {
      const n = job.plan!.statements.length;
      const own = results.slice(at, at + n);
      at += n;
      try {
        job.resolve(job.plan!.decode(own));
      } catch (err) {
        job.reject(err);
      }
    }
  }

  private async commitInteractive(batch: Job[], busy = new BusyWait()): Promise<void> {
    const settled: { job: Job; ok: boolean; value: unknown }[] = [];
    const durable = batch.some((j) => j.durable);
    // A remote transaction's BEGIN goes with its first statement: until one succeeded,
    // nothing is held or written, and a busy server can be asked again.
    let begun = false;
    let first: unknown = undefined;
    try {
      const opened = await this.client.transaction("write", { durable: durable && this.syncer === null });
      const tx = {
        execute: async (stmt: Parameters<Sql["execute"]>[0]) => {
          try {
            const rs = await opened.execute(stmt);
            begun = true;
            return rs;
          } catch (err) {
            if (!begun) first ??= err;
            throw err;
          }
        },
        commit: () => opened.commit(),
        close: () => opened.close(),
      };
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
      if (!begun && isBusy(first ?? err) && (await busy.again())) return this.commitInteractive(batch, busy);
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

/** An error a libSQL server answered for a statement (its transaction rolled back), not one of transport. */
export function refusedByServer(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_");
}

/** The server's write lock was held by another connection (nothing of the request ran). */
export function isBusy(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === "SQLITE_BUSY" || (typeof e?.message === "string" && e.message.includes("database is locked"));
}

/** How long a write waits, in all, for a busy server: short jittered waits, doubling. */
const BUSY_WAIT_MS = 5_000;

class BusyWait {
  private readonly until = Date.now() + BUSY_WAIT_MS;
  private step = 5;

  async again(): Promise<boolean> {
    if (Date.now() >= this.until) return false;
    const ms = Math.min(this.step, this.until - Date.now()) * (0.5 + Math.random());
    this.step = Math.min(this.step * 2, 200);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return true;
  }
}

/**
 * Three writes on the way at most without batching (Workers). sqld answers writers that race
 * for its lock with SQLITE_BUSY, and under a wider race some requests get no answer at all
 * (measured on loopback, 40 s of back-to-back batches: 16 writers, 48 unanswered for 10 s;
 * 4 writers, 4; 2 or 3 writers, none). A waiter polls on its own timer and never awaits a
 * promise another request settles (workerd cancels such a request as hung). A holder whose
 * request was canceled mid-write never leaves: past STALE_MS its place is taken.
 */
class WriteGate {
  private readonly holders = new Set<{ since: number }>();

  constructor(private readonly width = 3) {}

  async around(run: () => Promise<void>): Promise<void> {
    let wait = 1;
    while (this.busy()) {
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 8);
    }
    const mine = { since: Date.now() };
    this.holders.add(mine);
    try {
      await run();
    } finally {
      this.holders.delete(mine);
    }
  }

  private busy(): boolean {
    const now = Date.now();
    for (const h of this.holders) if (now - h.since >= STALE_MS) this.holders.delete(h);
    return this.holders.size >= this.width;
  }
}

/** Longer than any one write can take (the remote request timeout, 10 s, with room). */
const STALE_MS = 15_000;
