/**
 * A pool of signing threads for Bun (node:worker_threads): the accepting thread hands each
 * message's bytes and key ids to the least busy thread and awaits the DKIM-Signature
 * fields, so RSA signing uses the second core instead of stalling the event loop.
 *
 * A thread that dies fails every job it held (the submission gets a temporary error and
 * nothing is committed, so nothing is acknowledged) and is replaced on the next job.
 * Threads start on the first signature: a relay without DKIM keys starts none.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { JobReply, JobRequest, PoolKey, SignaturePool } from "../dkim/sign-jobs.ts";
import { errorFromFields } from "../core/log.ts";

export interface DkimPoolOptions {
  /** Signing threads; by default one less than the cores (at least one, at most four). */
  size?: number;
  /** The thread's entry module (tests give one that crashes). */
  entry?: URL;
}

interface Pending {
  resolve(header: string): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  /** Key ids already sent to this thread. */
  keys: Set<string>;
  pending: Map<number, Pending>;
  dead: boolean;
}

export const defaultPoolSize = (): number => Math.max(1, Math.min(4, availableParallelism() - 1));

export function createDkimPool(opts: DkimPoolOptions = {}): SignaturePool {
  const size = Math.max(1, opts.size ?? defaultPoolSize());
  const entry = opts.entry ?? new URL("./dkim-pool-worker.ts", import.meta.url);
  const slots: (Slot | null)[] = new Array<Slot | null>(size).fill(null);
  let nextJob = 1;
  let closed = false;

  const fail = (slot: Slot, err: Error) => {
    if (slot.dead) return;
    slot.dead = true;
    const i = slots.indexOf(slot);
    if (i >= 0) slots[i] = null;
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
    void slot.worker.terminate().catch(() => {});
  };

  const spawn = (i: number): Slot => {
    const worker = new Worker(entry);
    // The pool never keeps the process alive by itself; open jobs are held by their submissions.
    worker.unref();
    const slot: Slot = { worker, keys: new Set(), pending: new Map(), dead: false };
    worker.on("message", (reply: JobReply) => {
      const p = slot.pending.get(reply.job);
      if (!p) return;
      slot.pending.delete(reply.job);
      if ("header" in reply) p.resolve(reply.header);
      else p.reject(new Error(`DKIM signing failed: ${reply.error.message}`, { cause: errorFromFields(reply.error) }));
    });
    worker.on("error", (err: Error) => fail(slot, new Error(`DKIM signing thread failed: ${err.message}`, { cause: err })));
    worker.on("exit", (code: number) => fail(slot, new Error(`DKIM signing thread exited (${code})`)));
    slots[i] = slot;
    return slot;
  };

  const leastBusy = (): Slot => {
    let best = -1;
    for (let i = 0; i < size; i++) {
      const s = slots[i];
      if (!s) return spawn(i);
      if (best < 0 || s.pending.size < slots[best]!.pending.size) best = i;
    }
    return slots[best]!;
  };

  return {
    signatures(raw: Uint8Array, keys: PoolKey[], signTime: Date): Promise<string> {
      if (closed) return Promise.reject(new Error("DKIM signing pool closed"));
      if (keys.length === 0) return Promise.resolve("");
      const slot = leastBusy();
      for (const k of keys) {
        if (slot.keys.has(k.id)) continue;
        // Messages to one thread arrive in order, so the key is there before the job.
        slot.worker.postMessage({ kind: "key", id: k.id, algorithm: k.algorithm, pem: k.pem } satisfies JobRequest);
        slot.keys.add(k.id);
      }
      const job = nextJob++;
      return new Promise<string>((resolve, reject) => {
        slot.pending.set(job, { resolve, reject });
        const req: JobRequest = { kind: "sign", job, raw, keys: keys.map((k) => ({ id: k.id, domain: k.domain, selector: k.selector })), time: signTime.getTime() };
        slot.worker.postMessage(req);
      });
    },
    async close() {
      closed = true;
      const live = slots.filter((s): s is Slot => s !== null);
      for (const s of live) fail(s, new Error("DKIM signing pool closed"));
      await Promise.all(live.map((s) => s.worker.terminate().catch(() => 0)));
    },
  };
}
