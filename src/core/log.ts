/**
 * The log's vocabulary, shared by every floor: a Logger takes one event name and its fields
 * (one JSON line each; src/log.ts writes them), and errorFields turns anything thrown into
 * fields that keep what JSON.stringify drops — name, code, stack and the cause chain.
 * Log calls pass errors through errorFields; texts meant for a reply or a record use
 * errorText. This module is the only place a thrown value is turned into a string.
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

/** A thrown value that is not an Error, as text: a string as it is, anything else as JSON (its type when it has none). */
function thrownValueText(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    const json = JSON.stringify(v);
    if (json !== undefined) return json;
  } catch {
    // A cycle or a BigInt: its type says what little is known.
  }
  return typeof v;
}

/** An error as log fields: name, message, code, stack and its cause chain. */
export function errorFields(err: unknown, depth = 0): ErrorFields {
  if (!(err instanceof Error)) return { name: typeof err, message: thrownValueText(err) };
  const out: ErrorFields = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") out.code = code;
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined && depth < MAX_CAUSES) out.cause = errorFields(err.cause, depth + 1);
  return out;
}

/**
 * One line for a reply or a stored record: the error's message, with its code (ECONNREFUSED,
 * ENOTFOUND) when the message does not say it, and the same of each cause after it. For
 * logs, use errorFields, which keeps the stack too.
 */
export function errorText(err: unknown, depth = 0): string {
  if (!(err instanceof Error)) return thrownValueText(err);
  const code = (err as { code?: unknown }).code;
  const own = typeof code === "string" && code !== "" && !err.message.includes(code) ? `${err.message} (${code})`.trim() : err.message;
  return err.cause !== undefined && depth < MAX_CAUSES ? `${own}: ${errorText(err.cause, depth + 1)}` : own;
}

/** An error rebuilt from its fields (sent across a thread boundary), stack and causes kept. */
export function errorFromFields(f: ErrorFields): Error {
  const e = new Error(f.message, f.cause ? { cause: errorFromFields(f.cause) } : undefined);
  e.name = f.name;
  if (f.stack) e.stack = f.stack;
  if (f.code) (e as Error & { code?: string }).code = f.code;
  return e;
}
