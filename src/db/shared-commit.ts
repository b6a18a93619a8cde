/**
 * Several writers that must land in one transaction (a batch of messages: one commit for
 * the whole request). Each writer gets a slot; the slots' writes are gathered until every
 * slot has written or closed without writing, then run as one write of the underlying
 * writer, each inside its own SAVEPOINT: a write that throws (a limit reached, a refused
 * message) is rolled back alone and its promise rejects; the others commit together.
 */
import { refusedByServer, type GroupCommit, type WriteOptions } from "./group-commit.ts";
import { runPlan, type Plan, type Sql } from "./raw.ts";

/** What enqueueing needs of a writer: GroupCommit, or one slot of a SharedCommit. */
export type Writer = Pick<GroupCommit, "write" | "writePlan">;

interface Pending {
  run: (sql: Sql) => Promise<unknown>;
  plan?: Plan<unknown>;
  durable: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export interface CommitSlot extends Writer {
  /** This slot will not write (or has written): the gathered writes need not wait for it. */
  close(): void;
}

export class SharedCommit {
  private open = 0;
  private gathered: Pending[] = [];
  private flushed = false;

  constructor(private readonly writer: Writer) {}

  /** A writer for one participant; every slot must write once or be closed. */
  slot(): CommitSlot {
    this.open++;
    let done = false;
    const finish = () => {
      if (done) return false;
      done = true;
      this.open--;
      return true;
    };
    const gather = <T>(job: Omit<Pending, "resolve" | "reject">): Promise<T> => {
      const p = new Promise<T>((resolve, reject) => this.gathered.push({ ...job, resolve: resolve as (v: unknown) => void, reject }));
      finish();
      this.flushIfReady();
      return p;
    };
    return {
      write: <T>(run: (sql: Sql) => Promise<T>, options: WriteOptions = {}): Promise<T> => {
        // A second write from one slot, or one after the flush, goes on its own.
        if (done || this.flushed) return this.writer.write(run, options);
        return gather<T>({ run, durable: options.durable ?? true });
      },
      writePlan: <T>(plan: Plan<T>, options: Pick<WriteOptions, "durable"> = {}): Promise<T> => {
        if (done || this.flushed) return this.writer.writePlan(plan, options);
        return gather<T>({ run: (sql) => runPlan(sql, plan), plan, durable: options.durable ?? true });
      },
      close: () => {
        if (finish()) this.flushIfReady();
      },
    };
  }

  private flushIfReady(): void {
    if (this.open > 0 || this.flushed) return;
    this.flushed = true;
    const jobs = this.gathered;
    if (jobs.length === 0) return;
    if (jobs.every((j) => j.plan)) return this.flushPlans(jobs);
    const outcomes: { ok: boolean; value: unknown }[] = [];
    this.writer
      .write(
        async (sql) => {
          outcomes.length = 0;
          for (const job of jobs) {
            await sql.execute("SAVEPOINT shared_item");
            try {
              outcomes.push({ ok: true, value: await job.run(sql) });
              await sql.execute("RELEASE shared_item");
            } catch (err) {
              outcomes.push({ ok: false, value: err });
              await sql.execute("ROLLBACK TO shared_item");
              await sql.execute("RELEASE shared_item");
            }
          }
        },
        { isolated: true, durable: jobs.some((j) => j.durable) },
      )
      .then(
        // Settled only after COMMIT: an accepted item is durable when its promise resolves.
        () => jobs.forEach((job, i) => (outcomes[i]!.ok ? job.resolve : job.reject)(outcomes[i]!.value)),
        (err: unknown) => jobs.forEach((job) => job.reject(err)),
      );
  }

  /**
   * Plans only (the usual batch): one plan of all their statements, so the whole batch is
   * one request to a remote database; each item's decision is its own (decoded alone).
   */
  private flushPlans(jobs: Pending[]): void {
    const statements = jobs.flatMap((j) => j.plan!.statements);
    const combined: Plan<{ ok: boolean; value: unknown }[]> = {
      statements,
      decode: (results) => {
        let at = 0;
        return jobs.map((job) => {
          const own = results.slice(at, (at += job.plan!.statements.length));
          try {
            return { ok: true, value: job.plan!.decode(own) };
          } catch (err) {
            return { ok: false, value: err };
          }
        });
      },
    };
    this.writer.writePlan(combined, { durable: jobs.some((j) => j.durable) }).then(
      (outcomes) => jobs.forEach((job, i) => (outcomes[i]!.ok ? job.resolve : job.reject)(outcomes[i]!.value)),
      (err: unknown) => {
        // A statement the server refused (nothing committed): each item alone, so only the
        // faulty one fails. Anything else leaves the outcome unknown: all are told so.
        if (jobs.length === 1 || !refusedByServer(err)) return jobs.forEach((job) => job.reject(err));
        for (const job of jobs) this.writer.writePlan(job.plan!, { durable: job.durable }).then(job.resolve, job.reject);
      },
    );
  }
}
