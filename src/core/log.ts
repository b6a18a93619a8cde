/**
 * The log's vocabulary, shared by every floor: a Logger takes one event name and its fields
 * (one JSON line each; src/log.ts writes them), and errorFields turns anything thrown into
 * fields that keep what JSON.stringify drops — name, code, stack and the cause chain.
 * Log calls pass errors through errorFields, never String(err).
 */

export type Logger = (event: string, fields: Record<string, unknown>) => void;

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

/** An error as log fields: name, message, code, stack and its cause chain. */
export function errorFields(err: unknown, depth = 0): ErrorFields {
  if (!(err instanceof Error)) return { name: typeof err, message: String(err) };
  const out: ErrorFields = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") out.code = code;
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined && depth < MAX_CAUSES) out.cause = errorFields(err.cause, depth + 1);
  return out;
}
