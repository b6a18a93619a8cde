/** Structured logs: one JSON object per line on stderr. Never given secrets. */
import type { Logger } from "./smtp/session.ts";

export function createLogger(level: "info" | "silent"): Logger {
  if (level === "silent") return () => {};
  return (event, fields) => {
    process.stderr.write(`${JSON.stringify({ ts: new Date().toISOString(), event, ...fields })}\n`);
  };
}
