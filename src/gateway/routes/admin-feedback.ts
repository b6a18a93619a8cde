/**
 * The operator's `suppression`, `webhook` and `domain check` verbs over HTTP, across
 * accounts (an account manages its own with its API key under /v1/suppressions and
 * /v1/webhooks): the same src/admin functions as the CLI.
 */
import { Hono } from "hono";
import * as v from "valibot";
import type { Database } from "../../db/client.ts";
import type { GroupCommit } from "../../db/group-commit.ts";
import { suppressAddress, suppressionRows, unsuppressAddress } from "../../admin/suppressions.ts";
import { addWebhook, removeWebhook, rotateWebhook, webhookRows } from "../../admin/webhooks.ts";
import { checkNamedDomain, type DomainCheckDeps } from "../../domain-check/check.ts";
import type { SecretBox } from "../../secrets/cipher.ts";
import { adminDoc } from "./admin-doc.ts";
import { body, query } from "./admin-http.ts";
import * as s from "./admin-schemas.ts";
import { Failure } from "../../core/failure.ts";

export interface FeedbackAdminDeps {
  database: Pick<Database, "db" | "sql">;
  /** The gateway's writer: every write of this node goes through it. */
  writer: GroupCommit;
  secrets?: SecretBox | Promise<SecretBox>;
  /** SMARTHOST_ALLOW_PRIVATE_WEBHOOKS. */
  allowPrivateWebhooks: boolean;
  /** Where the node has DNS (not on Workers): the domain check. */
  domainCheck?: DomainCheckDeps;
}

const byAccount = [{ name: "account", description: "only this account's", example: "acme" }];

export function feedbackAdminRoutes(deps: FeedbackAdminDeps): Hono {
  const app = new Hono();
  const d = { ...deps.database, writer: deps.writer };
  const box = async (): Promise<SecretBox> => {
    if (!deps.secrets) throw new Failure("temporary", "Webhooks need SMARTHOST_SECRET_KEY on this node", { code: "no_secret_key" });
    return deps.secrets;
  };

  app.get("/suppressions", adminDoc({ tag: "suppressions", summary: "Suppressed addresses in force, of every account or one", query: byAccount, ok: v.array(s.SuppressionRow), errors: [404] }), async (c) =>
    c.json(await suppressionRows(d, query(c, s.AccountFilter).account)),
  );
  app.post("/suppressions", adminDoc({ tag: "suppressions", summary: "Stop sending to an address (or *@domain) for an account, until removed", body: s.SuppressionRef, example: { account: "acme", address: "bob@example.org" }, ok: s.SuppressionDone, status: 201, errors: [400, 404] }), async (c) => {
    const b = await body(c, s.SuppressionRef);
    return c.json({ account: b.account, address: await suppressAddress(d, b.account, b.address) }, 201);
  });
  app.post("/suppressions/remove", adminDoc({ tag: "suppressions", summary: "Send to an address again, at once", body: s.SuppressionRef, example: { account: "acme", address: "bob@example.org" }, ok: s.SuppressionDone, errors: [400, 404] }), async (c) => {
    const b = await body(c, s.SuppressionRef);
    await unsuppressAddress(d, b.account, b.address);
    return c.json({ account: b.account, address: b.address.toLowerCase() });
  });

  app.get("/webhooks", adminDoc({ tag: "webhooks", summary: "Webhook endpoints of every account or one (never their secrets)", query: byAccount, ok: v.array(s.WebhookRow), errors: [404] }), async (c) =>
    c.json(await webhookRows(d, query(c, s.AccountFilter).account)),
  );
  app.post("/webhooks", adminDoc({ tag: "webhooks", summary: "A signed webhook endpoint for an account; its whsec_ secret is returned once", body: s.NewWebhook, example: { account: "acme", url: "https://hooks.example.com/smarthost", events: ["message.bounced"] }, ok: s.WebhookSecretShown, status: 201, errors: [400, 404, 503] }), async (c) => {
    const b = await body(c, s.NewWebhook);
    return c.json(await addWebhook(d, await box(), b.account, b.url, b.events, deps.allowPrivateWebhooks), 201);
  });
  app.post("/webhooks/:id/rotate", adminDoc({ tag: "webhooks", summary: "A new signing secret, returned once; the old one keeps signing for 24 hours", params: { id: "01JD5W3Q2M8Z" }, ok: s.WebhookSecretShown, errors: [404, 503] }), async (c) =>
    c.json({ id: c.req.param("id"), secret: await rotateWebhook(d, await box(), c.req.param("id")) }),
  );
  app.delete("/webhooks/:id", adminDoc({ tag: "webhooks", summary: "Remove an endpoint and its pending deliveries", params: { id: "01JD5W3Q2M8Z" }, ok: s.WebhookRemoved, errors: [404] }), async (c) => {
    await removeWebhook(d, c.req.param("id"));
    return c.json({ id: c.req.param("id") });
  });

  const check = deps.domainCheck;
  if (check) {
    app.get("/domains/:domain", adminDoc({ tag: "domains", summary: "SPF, DKIM, DMARC, MTA-STS and TLS-RPT as published for any domain, and the records still to publish", params: { domain: "example.com" }, ok: s.DomainReport, errors: [400] }), async (c) =>
      c.json(await checkNamedDomain(check, c.req.param("domain"))),
    );
  }
  return app;
}
