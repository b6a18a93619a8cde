/**
 * The house's one error type. Whatever refuses or fails — a client's bad input, an admin
 * command's mistake, a setting that cannot work, storage that did not commit — throws a
 * Failure: its kind says what it means, its message is what the client (or the operator at
 * the CLI) is told, and the reason and cause stay apart for the log (in the spirit of
 * maddy's SMTPError). Each adapter maps kinds in one place: SMTP replies and HTTP statuses
 * in gateway/errors.ts, the CLI's `error: …` line in cli/io.ts.
 */

export type FailureKind =
  | "invalid"
  | "unauthenticated"
  | "auth-throttled"
  | "relay-denied"
  | "sender-denied"
  | "too-large"
  | "rate-limited"
  | "quota"
  | "not-found"
  | "conflict"
  | "too-many-hops"
  | "suppressed"
  /** The From: domain will not align for DMARC and the account requires it (gateway/dmarc-alignment.ts). */
  | "unaligned"
  /** A setting or start-up condition that cannot work: the process stops with the message. */
  | "config"
  | "temporary"
  | "internal";

export interface FailureDetails {
  /** The JSON error code; the kind (with `_`) when absent. */
  code?: string;
  retryAfterSeconds?: number;
  field?: string;
  /** Why, for the operator (never shown to the client). */
  reason?: string;
  /** The error underneath (a libSQL error, a network error): logged with its stack. */
  cause?: unknown;
}

export class Failure extends Error {
  override readonly name = "Failure";

  /** `message` is what the client is told. */
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly extra: FailureDetails = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
  }

  /** Our failure rather than the client's: the operator must hear of it. */
  get isOurs(): boolean {
    return this.kind === "temporary" || this.kind === "internal";
  }

  /** The JSON error code. */
  get code(): string {
    return this.extra.code ?? this.kind.replace(/-/g, "_");
  }
}

/** Whether `err` is a Failure of one of `kinds` (any kind when none are named). */
export function isFailure(err: unknown, ...kinds: FailureKind[]): err is Failure {
  return err instanceof Failure && (kinds.length === 0 || kinds.includes(err.kind));
}

/** A commit that did not happen (disk full, database locked or unreachable). */
export function storageFailure(cause: unknown): Failure {
  if (cause instanceof Failure) return cause;
  return new Failure("temporary", "Could not store the message, try again later", { code: "storage", reason: "commit failed", cause });
}

/** Anything thrown: a Failure as it is; anything else is our bug, kept as the cause. */
export function asFailure(err: unknown): Failure {
  if (err instanceof Failure) return err;
  return new Failure("internal", "Temporary failure, try again later", { code: "internal", reason: "unexpected error", cause: err });
}

/** SQLite's unique-constraint failure, however the driver wraps it. */
export function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (/UNIQUE constraint failed|SQLITE_CONSTRAINT/.test(String((e as Error).message ?? e))) return true;
  }
  return false;
}
