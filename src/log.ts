/** Structured logs: one JSON object per line on stderr. Never given secrets. */
import process from "node:process";
import type { Logger } from "./smtp/session-types.ts";

export function createLogger(level: "info" | "silent"): Logger {
  if (level === "silent") return () => {};
  // A closed log pipe must not take the relay down with it.
  process.stderr.on?.("error", () => {});
  return (event, fields) => {
    try {
      process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), event, ...fields })}\n`);
    } catch {
      // nowhere to log to
    }
  };
}
