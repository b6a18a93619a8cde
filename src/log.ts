/** Structured logs: one JSON object per line on stderr. Never given secrets. */
import process from "node:process";
import type { Logger } from "./core/log.ts";

export function createLogger(level: "info" | "silent"): Logger {
  if (level === "silent") return () => {};
  // A closed log pipe must not take the relay down with it.
  process.stderr.on?.("error", () => {});
  // Lines logged together (one delivery's outcomes, one batch of commits) go out in one
  // write, at the end of the current task, before any reply it leads to: a write per line
  // cost more than the rest of the logging under load. Flushed at exit too.
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    try {
      process.stderr.write(text);
    } catch {
      // nowhere to log to
    }
  };
  process.on?.("exit", flush);
  return (event, fields) => {
    pending.push(`${JSON.stringify({ ts: new Date().toISOString(), event, ...fields })}\n`);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
  };
}
