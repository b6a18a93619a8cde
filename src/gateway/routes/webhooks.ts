/**
 * GET/POST /v1/webhooks, GET/PATCH/DELETE /v1/webhooks/{id}, POST /v1/webhooks/{id}/rotate,
 * GET /v1/webhooks/{id}/deliveries, POST /v1/webhooks/deliveries/{id}/replay.
 */
import { Hono } from "hono";
import type { SecretBox } from "../../secrets/cipher.ts";
import { inWriteTransaction } from "../../suppression/manage.ts";
import { listDeliveries, replayDelivery } from "../../webhooks/deliveries.ts";
import { addEndpoint, endpointJson, getEndpoint, listEndpoints, removeEndpoint, rotateEndpoint, updateEndpoint } from "../../webhooks/endpoints.ts";
import { encodeCursor, idCursor, pageLimit, readJson, requireAccount, type AccountEnv } from "./account-scope.ts";
import { webhookDocs as doc } from "./feedback-doc.ts";
import { WebhookAdd as AddBody, WebhookPatch as PatchBody } from "./feedback-schemas.ts";
import { Failure, isFailure } from "../../core/failure.ts";
import type { Authenticator } from "../authenticate.ts";
import type { Storage } from "../../db/storage.ts";
import type { Logger } from "../../core/log.ts";
import { ALLOW_PRIVATE_WEBHOOKS } from "../../webhooks/destination.ts";

export interface WebhookRouteDeps {
  secrets?: () => Promise<SecretBox>;
  allowPrivate: boolean;
  /** A refused URL is logged for the operator too (a private one names SMARTHOST_ALLOW_PRIVATE_WEBHOOKS). */
  log?: Logger;
}

/** The URL's host for the log: never its path or query, which may hold a token. */
const hostOf = (url: unknown) => {
  try {
    return typeof url === "string" ? new URL(url).host : null;
  } catch {
    return null;
  }
};

const notFound = () => new Failure("not-found", "No such webhook", { code: "not_found" });

export function webhookRoutes(auth: Authenticator, storage: Storage, deps: WebhookRouteDeps): Hono<AccountEnv> {
  const app = new Hono<AccountEnv>();
  app.use("*", requireAccount(auth));
  const invalid = (accountId: string, url: unknown) => (err: unknown): never => {
    if (!isFailure(err, "invalid")) throw err;
    const fix = err.extra.reason === "private_destination" ? { fix: `${ALLOW_PRIVATE_WEBHOOKS}=true (tests only)` } : {};
    deps.log?.("webhook_url_refused", { account: accountId, host: hostOf(url), reason: err.message, ...fix });
    throw new Failure("invalid", err.message, { code: "invalid_webhook" });
  };
  const box = async (): Promise<SecretBox> => {
    const b = await deps.secrets?.().catch(() => undefined);
    if (!b) throw new Failure("temporary", "Webhooks need SMARTHOST_SECRET_KEY on this node", { code: "no_secret_key" });
    return b;
  };

  app.get("/", doc.list, async (c) => c.json({ data: (await listEndpoints(storage.sql, c.get("accountId"))).map((e) => endpointJson(e, Date.now())) }));

  app.post("/", doc.add, async (c) => {
    const body = await readJson(c, AddBody);
    const secrets = await box();
    const { endpoint, secret } = await inWriteTransaction(storage.writer, (sql) => addEndpoint(sql, secrets, c.get("accountId"), body, deps.allowPrivate, Date.now())).catch(invalid(c.get("accountId"), body.url));
    // The only time the secret is shown.
    return c.json({ ...endpointJson(endpoint, Date.now()), secret }, 201);
  });

  app.post("/deliveries/:id/replay", doc.replay, async (c) => {
    const id = c.req.param("id");
    if (!/^\d{1,15}$/.test(id) || !(await inWriteTransaction(storage.writer, (sql) => replayDelivery(sql, c.get("accountId"), Number(id), Date.now())))) {
      throw new Failure("not-found", "No such delivery", { code: "not_found" });
    }
    return c.json({ id: Number(id), state: "pending" }, 202);
  });

  app.get("/:id", doc.show, async (c) => {
    const e = await getEndpoint(storage.sql, c.get("accountId"), c.req.param("id"));
    if (!e) throw notFound();
    return c.json(endpointJson(e, Date.now()));
  });

  app.patch("/:id", doc.update, async (c) => {
    const body = await readJson(c, PatchBody);
    const e = await inWriteTransaction(storage.writer, (sql) => updateEndpoint(sql, c.get("accountId"), c.req.param("id"), body, deps.allowPrivate)).catch(invalid(c.get("accountId"), body.url));
    if (!e) throw notFound();
    return c.json(endpointJson(e, Date.now()));
  });

  app.delete("/:id", doc.remove, async (c) => {
    if (!(await inWriteTransaction(storage.writer, (sql) => removeEndpoint(sql, c.get("accountId"), c.req.param("id"))))) throw notFound();
    return c.body(null, 204);
  });

  app.post("/:id/rotate", doc.rotate, async (c) => {
    const secrets = await box();
    const secret = await inWriteTransaction(storage.writer, (sql) => rotateEndpoint(sql, secrets, c.get("accountId"), c.req.param("id"), Date.now()));
    if (!secret) throw notFound();
    return c.json({ id: c.req.param("id"), secret });
  });

  app.get("/:id/deliveries", doc.deliveries, async (c) => {
    const e = await getEndpoint(storage.sql, c.get("accountId"), c.req.param("id"));
    if (!e) throw notFound();
    const limit = pageLimit(c, 50, 100);
    const before = idCursor(c.req.query("cursor"));
    const rows = await listDeliveries(storage.sql, e.id, before || null, limit + 1);
    const page = rows.slice(0, limit);
    return c.json({ data: page, next_cursor: rows.length > limit ? encodeCursor([page.at(-1)!.id]) : null });
  });

  return app;
}
