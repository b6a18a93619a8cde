/**
 * The admin API, /v1/admin/…: the CLI's verbs over HTTP (for deployments with no shell next
 * to the database, such as Workers). Each route calls the same src/admin function as the
 * command, so the two cannot drift. Off unless SMARTHOST_ADMIN_TOKEN is set.
 */
import type { SecretBox } from "../../secrets/cipher.ts";
import { Hono } from "hono";
import * as v from "valibot";
import type { Db } from "../../db/client.ts";
import { addAccount, addApiKey, addCredential, allowNetwork, allowSender } from "../../admin/accounts.ts";
import { listAccounts, removeAccount, showAccount, updateAccount } from "../../admin/account-manage.ts";
import { listCredentials, removeCredential, rotateCredential } from "../../admin/credentials.ts";
import { listKeys, revokeKey } from "../../admin/keys.ts";
import { checkRouteUrl, listRoutes, maskRouteUrl, removeRoute } from "../../admin/route-list.ts";
import { addRoute } from "../../admin/routes.ts";
import { listNetworks, listSenders, removeNetwork, removeSender } from "../../admin/rules.ts";
import { apiKeyId } from "../../policy/api-keys.ts";
import { adminDoc } from "./admin-doc.ts";
import { adminAuth, body, query } from "./admin-http.ts";
import { queueAdminRoutes } from "./admin-queue.ts";
import { tlsrptAdminRoutes } from "./admin-tlsrpt.ts";
import type { ReportSettings } from "../../tlsrpt/settings.ts";
import { dkimAdminRoutes } from "./admin-dkim.ts";
import { feedbackAdminRoutes } from "./admin-feedback.ts";
import { returnsAdminRoutes } from "./admin-returns.ts";
import type { SqlDatabase } from "../../db/raw.ts";
import type { GroupCommit } from "../../db/group-commit.ts";
import type { DomainCheckDeps } from "../../domain-check/check.ts";
import { txtLookup } from "../../domain-check/dns.ts";
import { shapingAdminRoutes } from "./admin-shaping.ts";
import * as s from "./admin-schemas.ts";
import { Failure } from "../../core/failure.ts";

export interface AdminDeps {
  db: Db;
  /** For suppressions and webhooks: the raw connection and the node's writer. */
  sql: SqlDatabase;
  writer: GroupCommit;
  /** SMARTHOST_ALLOW_PRIVATE_WEBHOOKS. */
  allowPrivateWebhooks?: boolean;
  token: string;
  /** Seals route passwords (SMARTHOST_SECRET_KEY); adding a route with a password needs it. */
  secrets?: SecretBox | Promise<SecretBox>;
  hostname: string;
  /** DNS where the node has it (not on Workers): dkim list activates published selectors. */
  domainCheck?: DomainCheckDeps;
  now?: () => number;
  /** The TLS reports' sender settings (SMARTHOST_TLSRPT_*): enables /v1/admin/tlsrpt. */
  tlsrpt?: ReportSettings;
}

const byAccount = [{ name: "account", description: "only this account's", example: "acme" }];

export function adminRoutes(deps: AdminDeps): Hono {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const app = new Hono();
  // Errors reach the app's one handler (gateway/app.ts): mapped by kind, ours logged with the cause.
  app.use("*", adminAuth(db, deps.token, now));

  app.get("/accounts", adminDoc({ tag: "accounts", summary: "Every account with its limits", ok: v.array(s.AccountRow) }), async (c) => c.json(await listAccounts(db)));
  app.post("/accounts", adminDoc({ tag: "accounts", summary: "Create an account", body: s.NewAccount, example: { name: "acme", per_minute: 60, per_day: 10000 }, ok: s.AccountRow, status: 201, errors: [400, 409] }), async (c) => {
    const b = await body(c, s.NewAccount);
    await addAccount(db, b.name, { perMinute: b.per_minute ?? null, perDay: b.per_day ?? null, recipientsPerDay: b.recipients_per_day ?? null });
    return c.json((await listAccounts(db)).find((a) => a.name === b.name)!, 201);
  });
  app.get("/accounts/:name", adminDoc({ tag: "accounts", summary: "One account: use of its limits, queued mail, what it owns", params: { name: "acme" }, ok: s.AccountDetail, errors: [404] }), async (c) =>
    c.json(await showAccount(db, c.req.param("name"), now())),
  );
  app.patch("/accounts/:name", adminDoc({ tag: "accounts", summary: "Change an account's limits: messages per minute and per day, recipients per day (null removes one); list_unsubscribe one-click|off; require_alignment true|false (refuse mail that will not align for DMARC)", params: { name: "acme" }, body: s.AccountChange, example: { per_minute: null, per_day: 5000 }, ok: s.AccountRow, errors: [400, 404] }), async (c) => {
    const b = await body(c, s.AccountChange);
    return c.json(await updateAccount(db, c.req.param("name"), { perMinute: b.per_minute, perDay: b.per_day, recipientsPerDay: b.recipients_per_day, listUnsubscribe: b.list_unsubscribe, requireAlignment: b.require_alignment }));
  });
  app.delete("/accounts/:name", adminDoc({ tag: "accounts", summary: "Remove an account and what it owns; refused (409) while it has queued mail unless force=true", params: { name: "acme" }, query: [{ name: "force", description: "true: also delete its queued mail", example: "false" }], ok: s.AccountRemoved, errors: [400, 404, 409] }), async (c) =>
    c.json(await removeAccount(db, c.req.param("name"), query(c, s.RemoveQuery).force === "true")),
  );

  app.get("/credentials", adminDoc({ tag: "credentials", summary: "SMTP credentials (never their passwords)", query: byAccount, ok: v.array(s.CredentialRow), errors: [404] }), async (c) => c.json(await listCredentials(db, query(c, s.AccountFilter).account)));
  app.post("/credentials", adminDoc({ tag: "credentials", summary: "Add an SMTP credential; a generated password is returned once", body: s.NewCredential, example: { account: "acme", username: "app1" }, ok: s.CredentialSecret, status: 201, errors: [400, 404, 409] }), async (c) => {
    const b = await body(c, s.NewCredential);
    const generated = await addCredential(db, b.account, b.username, b.password);
    return c.json({ username: b.username, ...(generated ? { password: generated } : {}) }, 201);
  });
  app.post("/credentials/:username/rotate", adminDoc({ tag: "credentials", summary: "A new password; the old one stops working at once", params: { username: "app1" }, body: s.Rotation, example: {}, ok: s.CredentialSecret, errors: [400, 404] }), async (c) => {
    const b = await body(c, s.Rotation);
    const generated = await rotateCredential(db, c.req.param("username"), b.password);
    return c.json({ username: c.req.param("username"), ...(generated ? { password: generated } : {}) });
  });
  app.delete("/credentials/:username", adminDoc({ tag: "credentials", summary: "Remove an SMTP credential", params: { username: "app1" }, ok: s.CredentialSecret, errors: [404] }), async (c) => {
    await removeCredential(db, c.req.param("username"));
    return c.json({ username: c.req.param("username") });
  });

  app.get("/keys", adminDoc({ tag: "keys", summary: "API keys: id, account, created, last used, revoked", query: byAccount, ok: v.array(s.KeyRow), errors: [404] }), async (c) => c.json(await listKeys(db, query(c, s.AccountFilter).account)));
  app.post("/keys", adminDoc({ tag: "keys", summary: "Add an API key, returned once", body: s.NewKey, example: { account: "acme" }, ok: s.KeyCreated, status: 201, errors: [400, 404] }), async (c) => {
    const b = await body(c, s.NewKey);
    const key = await addApiKey(db, b.account);
    return c.json({ id: apiKeyId(key)!, account: b.account, key }, 201);
  });
  app.post("/keys/:id/revoke", adminDoc({ tag: "keys", summary: "Revoke an API key: its next request gets 401", params: { id: "AbC123xy" }, ok: s.KeyRow, errors: [404, 409] }), async (c) => c.json(await revokeKey(db, c.req.param("id"), now())));

  app.get("/senders", adminDoc({ tag: "senders", summary: "Sender rules", query: byAccount, ok: v.array(s.SenderRow), errors: [404] }), async (c) => c.json(await listSenders(db, query(c, s.AccountFilter).account)));
  app.post("/senders", adminDoc({ tag: "senders", summary: "Allow a sender: user@example.com, *@example.com or example.com", body: s.SenderRule, example: { account: "acme", pattern: "example.com" }, ok: s.SenderRow, status: 201, errors: [400, 404, 409] }), async (c) => {
    const b = await body(c, s.SenderRule);
    return c.json({ account: b.account, pattern: await allowSender(db, b.account, b.pattern) }, 201);
  });
  app.post("/senders/remove", adminDoc({ tag: "senders", summary: "Remove a sender rule", body: s.SenderRule, example: { account: "acme", pattern: "example.com" }, ok: s.SenderRow, errors: [400, 404] }), async (c) => {
    const b = await body(c, s.SenderRule);
    return c.json({ account: b.account, pattern: await removeSender(db, b.account, b.pattern) });
  });

  app.get("/networks", adminDoc({ tag: "networks", summary: "Trusted networks", query: byAccount, ok: v.array(s.NetworkRow), errors: [404] }), async (c) => c.json(await listNetworks(db, query(c, s.AccountFilter).account)));
  app.post("/networks", adminDoc({ tag: "networks", summary: "Trust a network: its clients send as the account without AUTH", body: s.Network, example: { account: "acme", cidr: "192.0.2.0/24" }, ok: s.NetworkRow, status: 201, errors: [400, 404, 409] }), async (c) => {
    const b = await body(c, s.Network);
    return c.json({ account: b.account, cidr: await allowNetwork(db, b.account, b.cidr) }, 201);
  });
  app.post("/networks/remove", adminDoc({ tag: "networks", summary: "Stop trusting a network", body: s.Network, example: { account: "acme", cidr: "192.0.2.0/24" }, ok: s.NetworkRow, errors: [400, 404] }), async (c) => {
    const b = await body(c, s.Network);
    return c.json({ account: b.account, cidr: await removeNetwork(db, b.account, b.cidr) });
  });

  app.get("/routes", adminDoc({ tag: "routes", summary: "Routes in failover order, credentials masked", ok: v.array(s.RouteRow) }), async (c) => c.json(await listRoutes(db)));
  app.post("/routes", adminDoc({ tag: "routes", summary: "Add a route: mx, smtp://[user:pass@]host:port or smtps://…", body: s.NewRoute, example: { domain: "example.net", url: "smtps://user:secret@smtp.provider.test:465" }, ok: s.RouteRow, status: 201, errors: [400] }), async (c) => {
    const b = await body(c, s.NewRoute);
    checkRouteUrl(b.url);
    if (!deps.secrets) throw new Failure("temporary", "Routes cannot be added here: SMARTHOST_SECRET_KEY is not set", { code: "no_secret_key" });
    const position = await addRoute(db, await deps.secrets, b.domain, b.url);
    return c.json({ domain: b.domain.toLowerCase(), position, url: maskRouteUrl(b.url) }, 201);
  });
  app.post("/routes/remove", adminDoc({ tag: "routes", summary: "Remove a route, given by its URL as added or as listed (masked)", body: s.RouteRef, example: { domain: "example.net", url: "smtps://***@smtp.provider.test:465" }, ok: s.RouteRemoved, errors: [400, 404, 409] }), async (c) => {
    const b = await body(c, s.RouteRef);
    return c.json(await removeRoute(db, b.domain, b.url));
  });

  app.route("/queue", queueAdminRoutes(db, deps.writer, deps.hostname, now));
  app.route("/", feedbackAdminRoutes({ database: { db, sql: deps.sql }, writer: deps.writer, secrets: deps.secrets, allowPrivateWebhooks: deps.allowPrivateWebhooks ?? false, domainCheck: deps.domainCheck }));
  app.route("/dkim", dkimAdminRoutes({ db, secrets: deps.secrets, lookupTxt: deps.domainCheck && txtLookup(deps.domainCheck.resolve), now }));
  app.route("/", shapingAdminRoutes(db));
  if (deps.tlsrpt) app.route("/tlsrpt", tlsrptAdminRoutes(deps.sql, deps.tlsrpt));
  app.route("/", returnsAdminRoutes(db, deps.sql, deps.hostname));
  return app;
}
