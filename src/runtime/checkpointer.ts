/**
 * WAL checkpoints on a thread of their own. SQLite copies the WAL back into the database
 * file inside whichever COMMIT crosses wal_autocheckpoint (1000 pages by default): that
 * commit then writes megabytes and syncs the file while every SMTP session of the event
 * loop waits. With this thread, passive checkpoints run beside the writer on the other
 * core, and the writer's own threshold stays only as a safety net (a thread that died or
 * fell behind): WRITER_AUTOCHECKPOINT pages.
 */
import { Worker } from "node:worker_threads";
import { errorFields, type ErrorFields } from "../core/log.ts";

export const WRITER_AUTOCHECKPOINT = 16_384;
const INTERVAL_MS = 50;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(entry: URL, path: string, log?: (event: string, fields: Record<string, unknown>) => void): Checkpointer {
  const worker = new Worker(entry, { workerData: { path, intervalMs: INTERVAL_MS } });
  // Never what keeps the process alive.
  worker.unref();
  // The same failure every turn is logged once, with its stack and causes (errorFields from the thread).
  let lastError = "";
  worker.on("message", (m: unknown) => {
    if (!m || typeof m !== "object" || !("error" in m)) return;
    const error = m.error as ErrorFields;
    if (error.message === lastError) return;
    lastError = error.message;
    log?.("checkpoint_failed", { error });
  });
  worker.on("error", (err) => log?.("checkpoint_failed", { error: errorFields(err) }));
  return {
    async stop() {
      const stopped = new Promise<void>((resolve) => {
        worker.on("message", (m) => m === "stopped" && resolve());
        worker.on("exit", () => resolve());
      });
      worker.postMessage("stop");
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 2000))]);
      await worker.terminate();
    },
  };
}
