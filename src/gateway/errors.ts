/**
 * What can go wrong when submitting, one kind each, mapped in this one place to the SMTP
 * reply and the HTTP status the client sees. The message shown is kept apart from
 * anything logged.
 */
import { reply, type Reply } from "../smtp/reply.ts";

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
  | "suppressed"
  | "temporary";

export class GatewayError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly extra: { code?: string; retryAfterSeconds?: number; field?: string } = {},
  ) {
    super(message);
  }
}

const retryText = (s?: number) => (s !== undefined ? `; try again in ${s} seconds` : "");

export function toSmtpReply(err: GatewayError): Reply {
  const m = err.message;
  switch (err.kind) {
    case "invalid":
      return reply(550, "5.6.0", m);
    case "unauthenticated":
      return reply(535, "5.7.8", "Authentication credentials invalid");
    case "auth-throttled":
      return reply(454, "4.7.0", `Too many authentication failures${retryText(err.extra.retryAfterSeconds)}`);
    case "relay-denied":
      return reply(554, "5.7.1", m);
    case "sender-denied":
      return reply(550, "5.7.1", m);
    case "too-large":
      return reply(552, "5.3.4", m);
    case "rate-limited":
      return reply(451, "4.7.1", `${m}${retryText(err.extra.retryAfterSeconds)}`);
    case "quota":
      return reply(452, "4.5.3", `${m}${retryText(err.extra.retryAfterSeconds)}`);
    case "not-found":
    case "suppressed":
      return reply(550, "5.1.1", m);
    case "temporary":
      return reply(451, "4.3.0", m);
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
  suppressed: 422,
  temporary: 503,
};

export interface HttpError {
  status: number;
  body: { error: { code: string; message: string; field?: string } };
  headers: Record<string, string>;
}

export function toHttpError(err: GatewayError): HttpError {
  const headers: Record<string, string> = {};
  if (err.extra.retryAfterSeconds !== undefined) headers["Retry-After"] = String(err.extra.retryAfterSeconds);
  const code = err.extra.code ?? err.kind.replace(/-/g, "_");
  const body: HttpError["body"] = { error: { code, message: err.message } };
  if (err.extra.field) body.error.field = err.extra.field;
  return { status: STATUS[err.kind], body, headers };
}
