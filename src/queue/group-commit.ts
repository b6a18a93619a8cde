/**
 * Group commit: writes that arrive while a transaction is committing wait and then commit
 * together in the next one, each inside its own SAVEPOINT. A job that throws is rolled back
 * alone; the others commit. Every job's promise settles only after COMMIT returned, so an
 * acknowledgement still means "durable", with one fsync shared by many messages.
 */
import type { Db } from "../db/client.ts";
import type { Tx } from "../db/exec.ts";

interface Job {
  run: (tx: Tx) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit {
  private queue: Job[] = [];
  private running = false;

  constructor(private readonly db: Db, private readonly maxBatch = 128) {}

  write<T>(run: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.running) {
        this.running = true;
        // Embedded libSQL runs synchronously: without yielding once, no other write could
        // ever join. One turn of the event loop lets every session ready now add its own.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.commit(batch);
      }
    } finally {
      this.running = false;
    }
  }

  private async commit(batch: Job[]): Promise<void> {
    const settled: { job: Job; ok: boolean; value: unknown }[] = [];
    try {
      await this.db.transaction(async (tx) => {
        for (const job of batch) {
          try {
            // A nested transaction is a SAVEPOINT: this job alone rolls back if it throws.
            const value = await tx.transaction((sp) => job.run(sp));
            settled.push({ job, ok: true, value });
          } catch (err) {
            settled.push({ job, ok: false, value: err });
          }
        }
      });
    } catch (err) {
      // COMMIT (or BEGIN) failed: nothing of this batch is stored.
      for (const job of batch) job.reject(err);
      return;
    }
    for (const s of settled) (s.ok ? s.job.resolve : s.job.reject)(s.value);
  }
}
