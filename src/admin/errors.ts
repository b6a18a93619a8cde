/** A mistake in an admin command: printed as "error: …" with exit status 1. */
export class AdminError extends Error {}

/** SQLite's unique-constraint failure, however the driver wraps it. */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (/UNIQUE constraint failed|SQLITE_CONSTRAINT/.test(String((e as Error).message ?? e))) return true;
  }
  return false;
}
