/** GET /v1/messages?status=&recipient=&since=&until=&limit=&cursor=: the query string read and checked. */
import type { Context } from "hono";
import type { Sql } from "../../db/raw.ts";
import { MESSAGE_STATUSES, searchMessages, type MessageStatus } from "../../events/message-search.ts";
import { decodeCursor, encodeCursor, pageLimit } from "./account-scope.ts";
import { Failure } from "../../core/failure.ts";

function time(c: Context, name: string): number | undefined {
  const s = c.req.query(name);
  if (s === undefined || s === "") return undefined;
  const t = Date.parse(s);
  if (!Number.isFinite(t)) throw new Failure("invalid", `${name} must be an RFC 3339 date-time`, { code: "invalid_field", field: name });
  return t;
}

export async function listMessages(sql: Sql, accountId: string, c: Context) {
  const status = c.req.query("status");
  if (status !== undefined && !(MESSAGE_STATUSES as readonly string[]).includes(status)) {
    throw new Failure("invalid", `status must be one of ${MESSAGE_STATUSES.join(", ")}`, { code: "invalid_field", field: "status" });
  }
  const limit = pageLimit(c, 50, 100);
  const cursor = decodeCursor(c.req.query("cursor"), 2);
  const before = cursor ? { createdAt: Number(cursor[0]), id: cursor[1]! } : undefined;
  if (before && !Number.isSafeInteger(before.createdAt)) throw new Failure("invalid", "cursor is not one this API gave out", { code: "invalid_cursor", field: "cursor" });
  const rows = await searchMessages(sql, accountId, {
    status: status as MessageStatus | undefined,
    recipient: c.req.query("recipient") || undefined,
    since: time(c, "since"),
    until: time(c, "until"),
    before,
    // One more than asked, to know whether there is a next page.
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const end = rows.length > limit ? page.at(-1)! : null;
  return { data: page, next_cursor: end ? encodeCursor([Date.parse(end.created_at), end.id]) : null };
}
