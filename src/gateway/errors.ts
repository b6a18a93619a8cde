/**
 * The gateway's mapping of the one error type (core/failure.ts) to what a client sees: an
 * SMTP reply, or an HTTP status with a JSON body. This file is the one place that maps a
 * kind to a reply and a status, and the one place that decides what is logged: our own
 * failures (storage, a bug) with their cause and stack, once; refusals of the client's
 * input are answers, not incidents, and are not logged here.
 */
import { asFailure, type Failure, type FailureKind } from "../core/failure.ts";
import { errorFields, type Logger } from "../core/log.ts";
import { policyReplies, type Reply } from "../core/reply.ts";

/**
 * Maps what was thrown and logs it when it is ours, with its cause — the one log line an
 * operator gets for it. Callers answer the client with the returned error and log nothing.
 */
export function reportFailure(err: unknown, log: Logger, event: string, context: Record<string, unknown> = {}): Failure {
  const e = asFailure(err);
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

export function toSmtpReply(err: Failure): Reply {
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
    case "unaligned":
      return policyReplies.unaligned(m);
    case "conflict":
      return policyReplies.invalidMessage(m);
    case "config":
    case "temporary":
    case "internal":
      return policyReplies.temporary(m);
  }
}

const STATUS: Record<FailureKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  "auth-throttled": 429,
  "relay-denied": 403,
  "sender-denied": 403,
  "too-large": 413,
  "rate-limited": 429,
  quota: 429,
  "not-found": 404,
  conflict: 409,
  "too-many-hops": 400,
  suppressed: 422,
  unaligned: 422,
  config: 503,
  temporary: 503,
  internal: 500,
};

export interface HttpError {
  status: number;
  body: { error: { code: string; message: string; field?: string } };
  headers: Record<string, string>;
}

export function toHttpError(err: Failure): HttpError {
  const headers: Record<string, string> = {};
  if (err.extra.retryAfterSeconds !== undefined) headers["Retry-After"] = String(err.extra.retryAfterSeconds);
  // RFC 9110 §15.6.4: a 503 may say when to come back; storage trouble is usually brief.
  else if (err.kind === "temporary") headers["Retry-After"] = "30";
  const code = err.code;
  const body: HttpError["body"] = { error: { code, message: err.message } };
  if (err.extra.field) body.error.field = err.extra.field;
  return { status: STATUS[err.kind], body, headers };
}
