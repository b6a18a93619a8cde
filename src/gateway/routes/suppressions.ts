/** GET/POST /v1/suppressions, GET/DELETE /v1/suppressions/{address}: the account's suppression list. */
import { Hono } from "hono";
import { addSuppressions, removeSuppressionEntry } from "../../suppression/manage.ts";
import { getSuppression, listSuppressions, normalizeSuppressionAddress, suppressionJson, type SuppressionReason } from "../../suppression/store.ts";
import { encodeCursor, idCursor, pageLimit, readJson, requireAccount, type AccountEnv } from "./account-scope.ts";
import { suppressionDocs as doc } from "./feedback-doc.ts";
import { SuppressionAdd as AddBody } from "./feedback-schemas.ts";
import { Failure, isFailure } from "../../core/failure.ts";
import type { Authenticator } from "../authenticate.ts";
import type { Storage } from "../../db/storage.ts";

const REASONS = ["bounce", "complaint", "manual", "unsubscribe"] as const;

const invalid = (err: unknown): never => {
  if (isFailure(err, "invalid")) throw new Failure("invalid", err.message, { code: "invalid_address", field: "address" });
  throw err;
};

function addressParam(raw: string): string {
  const a = normalizeSuppressionAddress(raw);
  if (!a) throw new Failure("invalid", "not an address or *@domain", { code: "invalid_address", field: "address" });
  return a;
}

export function suppressionRoutes(auth: Authenticator, storage: Storage): Hono<AccountEnv> {
  const app = new Hono<AccountEnv>();
  app.use("*", requireAccount(auth));

  app.get("/", doc.list, async (c) => {
    const reason = c.req.query("reason");
    if (reason !== undefined && !(REASONS as readonly string[]).includes(reason)) throw new Failure("invalid", "reason must be bounce, complaint or manual", { code: "invalid_field", field: "reason" });
    const limit = pageLimit(c, 100, 1000);
    const after = idCursor(c.req.query("cursor"));
    const rows = await listSuppressions(storage.sql, c.get("accountId"), { reason: reason as SuppressionReason | undefined, after, limit: limit + 1, now: Date.now() });
    const page = rows.slice(0, limit);
    return c.json({ data: page.map(suppressionJson), next_cursor: rows.length > limit ? encodeCursor([page.at(-1)!.id]) : null });
  });

  app.post("/", doc.add, async (c) => {
    const body = await readJson(c, AddBody);
    const inputs = "addresses" in body ? body.addresses : [body.address];
    const added = await addSuppressions(storage.writer, c.get("accountId"), inputs, body.reason, Date.now()).catch(invalid);
    const now = Date.now();
    const entries = await Promise.all(added.map((a) => getSuppression(storage.sql, c.get("accountId"), a, now)));
    return c.json({ data: entries.flatMap((e) => (e ? [suppressionJson(e)] : [])) }, 201);
  });

  app.get("/:address", doc.show, async (c) => {
    const entry = await getSuppression(storage.sql, c.get("accountId"), addressParam(c.req.param("address")), Date.now());
    if (!entry) throw new Failure("not-found", "Address is not on the suppression list", { code: "not_found" });
    return c.json(suppressionJson(entry));
  });

  app.delete("/:address", doc.remove, async (c) => {
    const removed = await removeSuppressionEntry(storage.writer, c.get("accountId"), addressParam(c.req.param("address")), Date.now()).catch(invalid);
    if (!removed) throw new Failure("not-found", "Address is not on the suppression list", { code: "not_found" });
    return c.body(null, 204);
  });

  return app;
}
