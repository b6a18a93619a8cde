/** GET /v1/events?after=CURSOR&limit=: the account's events in order, the same payloads as the webhooks. */
import { Hono } from "hono";
import { eventsAfter } from "../../events/feed.ts";
import { pageLimit, requireAccount, type AccountEnv } from "./account-scope.ts";
import { eventDocs as doc } from "./feedback-doc.ts";
import { Failure } from "../../core/failure.ts";
import type { Authenticator } from "../authenticate.ts";
import type { Storage } from "../../db/storage.ts";

export function eventRoutes(auth: Authenticator, storage: Storage): Hono<AccountEnv> {
  const app = new Hono<AccountEnv>();
  app.use("*", requireAccount(auth));
  app.get("/", doc.list, async (c) => {
    const cursor = c.req.query("after");
    const m = cursor === undefined || cursor === "" ? ["", "0"] : /^evt_(\d{1,15})$/.exec(cursor);
    if (!m) throw new Failure("invalid", "after must be an event id (evt_…) from this API", { code: "invalid_cursor", field: "after" });
    const data = await eventsAfter(storage.sql, c.get("accountId"), Number(m[1]), pageLimit(c, 100, 1000));
    // Always a cursor to continue from: polling with it returns only what is new.
    return c.json({ data, next_cursor: data.at(-1)?.id ?? (cursor || null) });
  });
  return app;
}
