/**
 * The checkpointing thread's body (src/runtime/checkpointer.ts): its own connection to
 * the database file, a passive WAL checkpoint every few milliseconds, stop on request.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "libsql";
import { errorFields } from "../core/log.ts";

interface Settings {
  path: string;
  intervalMs: number;
}

const { path, intervalMs } = workerData as Settings;
const db = new Database(path, { timeout: 15_000 });
// Synchronous FULL: a checkpoint syncs the WAL before copying it and the file after.
db.exec("PRAGMA synchronous=FULL");
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");

const timer = setInterval(() => {
  try {
    checkpoint.all([]);
  } catch (err) {
    // Busy or failing now: the next turn tries again; the writer's own checkpoint is the net.
    parentPort?.postMessage({ error: errorFields(err) });
  }
}, intervalMs);

parentPort?.on("message", (m: unknown) => {
  if (m !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort?.postMessage("stopped");
});
