/**
 * A mistake in an admin command: printed as "error: …" with exit status 1 by the CLI, and
 * answered as `{"error":{"code","message"}}` by the admin API (400, 404 or 409 by kind).
 */
export type AdminErrorKind = "invalid" | "not_found" | "conflict";

export class AdminError extends Error {
  constructor(message: string, readonly kind: AdminErrorKind = "invalid") {
    super(message);
  }
}

/** SQLite's unique-constraint failure, however the driver wraps it. */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (/UNIQUE constraint failed|SQLITE_CONSTRAINT/.test(String((e as Error).message ?? e))) return true;
  }
  return false;
}
