/** What the account-scoped management routes share: the API key check, JSON bodies, cursors. */
import type { Context, MiddlewareHandler } from "hono";
import * as v from "valibot";
import { base64url, base64ToBytes } from "../../util/bytes.ts";
import type { Authenticator } from "../authenticate.ts";
import { issueField } from "../schemas.ts";
import { Failure } from "../../core/failure.ts";

export type AccountEnv = { Variables: { accountId: string; keyId: string; suppressionsListed: boolean } };

export const requireAccount = (auth: Authenticator): MiddlewareHandler<AccountEnv> => async (c, next) => {
  const caller = await auth.apiCaller(c.req.header("authorization"));
  c.set("accountId", caller.accountId);
  c.set("keyId", caller.keyId);
  c.set("suppressionsListed", caller.suppressionsListed);
  await next();
};

export async function readJson<T extends v.GenericSchema>(c: Context, schema: T): Promise<v.InferOutput<T>> {
  let data: unknown;
  try {
    data = JSON.parse(await c.req.text());
  } catch {
    throw new Failure("invalid", "Body is not valid JSON", { code: "invalid_json" });
  }
  const result = v.safeParse(schema, data);
  if (!result.success) {
    const { field, message } = issueField(result.issues);
    throw new Failure("invalid", message, { code: "invalid_field", field });
  }
  return result.output;
}

/** `limit` between 1 and `max` (default `def`). */
export function pageLimit(c: Context, def: number, max: number): number {
  const s = c.req.query("limit");
  if (s === undefined) return def;
  if (!/^\d+$/.test(s) || Number(s) < 1 || Number(s) > max) throw new Failure("invalid", `limit must be a whole number from 1 to ${max}`, { code: "invalid_field", field: "limit" });
  return Number(s);
}

/** Cursors are opaque to clients: base64url of the values that position the page. */
export const encodeCursor = (parts: (string | number)[]) => base64url(new TextEncoder().encode(parts.join("\n")));

export function decodeCursor(s: string | undefined, n: number): string[] | null {
  if (s === undefined || s === "") return null;
  try {
    const parts = new TextDecoder("utf-8", { fatal: true }).decode(base64ToBytes(s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "="))).split("\n");
    if (parts.length === n) return parts;
  } catch {
    // falls through to the error below
  }
  throw new Failure("invalid", "cursor is not one this API gave out", { code: "invalid_cursor", field: "cursor" });
}

/** A cursor that holds one row id (0 when absent). */
export function idCursor(s: string | undefined): number {
  const parts = decodeCursor(s, 1);
  if (!parts) return 0;
  const n = Number(parts[0]);
  if (!Number.isSafeInteger(n) || n < 0) throw new Failure("invalid", "cursor is not one this API gave out", { code: "invalid_cursor", field: "cursor" });
  return n;
}
