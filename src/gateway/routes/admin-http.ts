/**
 * The admin API's plumbing: the bearer token (compared in constant time, failures counted
 * with SMTP AUTH's, policy/auth-throttle.ts), body and query validation into our error
 * shape, and admin errors as HTTP statuses.
 */
import type { Context, ErrorHandler, MiddlewareHandler } from "hono";
import * as v from "valibot";
import type { Db } from "../../db/client.ts";
import { finishAttempt, reserveAttempt, throttleKeys, type ThrottleKeys } from "../../policy/auth-throttle.ts";
import type { ClientEnv } from "../../util/client-address.ts";
import { constantTimeEqual } from "../../util/bytes.ts";
import { sha256Hex } from "../../util/hash.ts";
import { toHttpError } from "../errors.ts";
import { issueField } from "../schemas.ts";
import { Failure } from "../../core/failure.ts";

/** The throttle's user name for admin token failures. */
export const ADMIN_USER = "admin-api";

/**
 * The client's address as the entry resolved it (src/policy/client-address.ts: the
 * runtime's peer, past trusted proxies); null when the entry passed none.
 */
export function clientIp(c: Context): string | null {
  const env = c.env as Partial<ClientEnv> | undefined;
  return typeof env?.clientAddress === "string" ? env.clientAddress : null;
}

/** Whether the client used TLS as a trusted proxy in front said (X-Forwarded-Proto); null when none said. */
export function clientTls(c: Context): boolean | null {
  const env = c.env as Partial<ClientEnv> | undefined;
  return typeof env?.clientTls === "boolean" ? env.clientTls : null;
}

/**
 * The AUTH-throttle keys for an admin token try (the API's and the dashboard login's).
 * Without an address, the per-address and per-(user, address) counts get a key of this
 * request's own: one key shared by every such request would let anyone refuse everyone
 * (five wrong tokens block the pair for 15 minutes). Refusing the request instead would
 * shut the admin out wherever the runtime gives no address, and a key from the given
 * token's digest would only refuse a wrong token repeated, which never succeeds anyway,
 * while writing the right token's digest into the table. What still holds is the
 * per-user count: every failure slows the next check (up to 3 s) and is never refused,
 * and the token is at least 32 characters.
 */
export function adminThrottleKeys(c: Context): ThrottleKeys {
  return throttleKeys(clientIp(c) ?? `unknown:${crypto.randomUUID()}`, ADMIN_USER);
}

export function adminAuth(db: Db, token: string, now: () => number): MiddlewareHandler {
  return async (c, next) => {
    const keys = adminThrottleKeys(c);
    // The attempt is reserved before the comparison, as SMTP AUTH's are (one statement).
    const reserved = await reserveAttempt(db, keys, now());
    if (!reserved.ok) throw new Failure("auth-throttled", "Too many authentication failures", { retryAfterSeconds: reserved.retryAfterSeconds });
    if (reserved.delayMs > 0) await new Promise((r) => setTimeout(r, reserved.delayMs));
    const given = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
    // Digests compared, so neither the content nor the length of the token shows in the time taken.
    const ok = constantTimeEqual(await sha256Hex(given), await sha256Hex(token));
    await finishAttempt(db, keys, ok, now());
    if (!ok) throw new Failure("unauthenticated", "Missing or invalid admin token");
    await next();
  };
}

function validated<T extends v.GenericSchema>(schema: T, data: unknown): v.InferOutput<T> {
  const result = v.safeParse(schema, data);
  if (!result.success) {
    const { field, message } = issueField(result.issues);
    throw new Failure("invalid", message, { code: "invalid_field", field });
  }
  return result.output;
}

/** The JSON body checked against `schema`; an empty body counts as `{}`. */
export async function body<T extends v.GenericSchema>(c: Context, schema: T): Promise<v.InferOutput<T>> {
  const text = await c.req.text();
  let data: unknown = {};
  if (text.trim() !== "") {
    try {
      data = JSON.parse(text);
    } catch {
      throw new Failure("invalid", "Body is not valid JSON", { code: "invalid_json" });
    }
  }
  return validated(schema, data);
}

export function query<T extends v.GenericSchema>(c: Context, schema: T): v.InferOutput<T> {
  return validated(schema, c.req.query());
}
