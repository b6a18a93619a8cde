/** Structured logs: one JSON object per line on stderr. Never given secrets. */
import process from "node:process";
import type { Logger } from "./smtp/session-types.ts";

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

export interface ErrorFields {
  name: string;
  message: string;
  /** SQLite/libSQL and Node put a machine-readable code here (SQLITE_FULL, ECONNREFUSED). */
  code?: string;
  stack?: string;
  cause?: ErrorFields;
}

// A cause chain is short in practice; a cycle must not hang the logger.
const MAX_CAUSES = 5;

/** An error as log fields: name, message, code, stack and its cause chain (JSON.stringify drops all of them). */
export function errorFields(err: unknown, depth = 0): ErrorFields {
  if (!(err instanceof Error)) return { name: typeof err, message: String(err) };
  const out: ErrorFields = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") out.code = code;
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined && depth < MAX_CAUSES) out.cause = errorFields(err.cause, depth + 1);
  return out;
}
