/**
 * One error type for everything the gateway refuses or fails at (in the spirit of maddy's
 * SMTPError): what the client is told — an SMTP reply, or an HTTP status with a JSON body —
 * is kept apart from the reason and the cause an operator reads in the log. This file is
 * the one place that maps a kind to a reply and a status, and the one place that decides
 * what is logged: our own failures (storage, a bug) with their cause and stack, once;
 * refusals of the client's input are answers, not incidents, and are not logged here.
 */
import { errorFields } from "../core/log.ts";
import { policyReplies, type Reply } from "../core/reply.ts";
import type { Logger } from "../core/log.ts";

export type ErrorKind =
  | "invalid"
  | "unauthenticated"
  | "auth-throttled"
  | "relay-denied"
  | "sender-denied"
  | "too-large"
  | "rate-limited"
  | "quota"
  | "not-found"
  | "too-many-hops"
  | "suppressed"
  | "temporary"
  | "internal";

export interface ErrorDetails {
  /** The JSON error code; the kind (with `_`) when absent. */
  code?: string;
  retryAfterSeconds?: number;
  field?: string;
  /** Why, for the operator (never shown to the client). */
  reason?: string;
  /** The error underneath (a libSQL error, a network error): logged with its stack. */
  cause?: unknown;
}

export class GatewayError extends Error {
  override readonly name = "GatewayError";

  /** `message` is what the client is told. */
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly extra: ErrorDetails = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
  }

  /** Our failure rather than the client's: the operator must hear of it. */
  get isOurs(): boolean {
    return this.kind === "temporary" || this.kind === "internal";
  }
}

/** A commit that did not happen (disk full, database locked or unreachable). */
export function storageFailure(cause: unknown): GatewayError {
  if (cause instanceof GatewayError) return cause;
  return new GatewayError("temporary", "Could not store the message, try again later", { code: "storage", reason: "commit failed", cause });
}

/** Anything thrown: a GatewayError as it is; anything else is our bug, kept as the cause. */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError("internal", "Temporary failure, try again later", { code: "internal", reason: "unexpected error", cause: err });
}

/**
 * Maps what was thrown and logs it when it is ours, with its cause — the one log line an
 * operator gets for it. Callers answer the client with the returned error and log nothing.
 */
export function reportFailure(err: unknown, log: Logger, event: string, context: Record<string, unknown> = {}): GatewayError {
  const e = asGatewayError(err);
  if (e.isOurs) {
    log(event, {
      ...context,
      kind: e.kind,
      code: e.extra.code ?? e.kind,
      reason: e.extra.reason ?? e.message,
      error: errorFields(e.cause ?? e),
    });
  }
  return e;
}

export function toSmtpReply(err: GatewayError): Reply {
  const m = err.message;
  const retry = err.extra.retryAfterSeconds;
  switch (err.kind) {
    case "invalid":
      return policyReplies.invalidMessage(m);
    case "unauthenticated":
      return policyReplies.authFailed;
    case "auth-throttled":
      return policyReplies.authThrottled(retry);
    case "relay-denied":
      return policyReplies.relayDenied(m);
    case "sender-denied":
      return policyReplies.senderDenied(m);
    case "too-large":
      return policyReplies.tooLarge(m);
    case "rate-limited":
      return policyReplies.rateLimited(m, retry);
    case "quota":
      return policyReplies.quotaReached(m, retry);
    case "not-found":
      return policyReplies.notFound(m);
    case "too-many-hops":
      return policyReplies.tooManyHops(m);
    case "suppressed":
      return policyReplies.suppressed(m);
    case "temporary":
    case "internal":
      return policyReplies.temporary(m);
  }
}

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  "auth-throttled": 429,
  "relay-denied": 403,
  "sender-denied": 403,
  "too-large": 413,
  "rate-limited": 429,
  quota: 429,
  "not-found": 404,
  "too-many-hops": 400,
  suppressed: 422,
  temporary: 503,
  internal: 500,
};

export interface HttpError {
  status: number;
  body: { error: { code: string; message: string; field?: string } };
  headers: Record<string, string>;
}

export function toHttpError(err: GatewayError): HttpError {
  const headers: Record<string, string> = {};
  if (err.extra.retryAfterSeconds !== undefined) headers["Retry-After"] = String(err.extra.retryAfterSeconds);
  // RFC 9110 §15.6.4: a 503 may say when to come back; storage trouble is usually brief.
  else if (err.kind === "temporary") headers["Retry-After"] = "30";
  const code = err.extra.code ?? err.kind.replace(/-/g, "_");
  const body: HttpError["body"] = { error: { code, message: err.message } };
  if (err.extra.field) body.error.field = err.extra.field;
  return { status: STATUS[err.kind], body, headers };
}
