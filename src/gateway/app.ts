/** The gateway's HTTP face: one Hono app, runtime-neutral. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { sql } from "drizzle-orm";
import type { SubmissionHandler } from "../smtp/handler.ts";
import { reportFailure, toHttpError } from "./errors.ts";
import type { Gateway } from "./gateway.ts";
import type { Metrics } from "./metrics.ts";
import { handoffRoutes } from "./routes/handoff.ts";
import { messageRoutes } from "./routes/messages.ts";
import { suppressionRoutes } from "./routes/suppressions.ts";
import { eventRoutes } from "./routes/events.ts";
import { webhookRoutes, type WebhookRouteDeps } from "./routes/webhooks.ts";
import { HANDOFF_PATH } from "./handoff.ts";
import { DEFAULT_MAX_BATCH, httpBodyLimit } from "../config.ts";
import { Cached } from "../util/cached.ts";
import { constantTimeEqual } from "../util/bytes.ts";

// /healthz is unauthenticated: one database round trip per few seconds at most, whoever asks.
const HEALTH_CACHE_MS = 3_000;
import { domainRoutes } from "./routes/domain-check.ts";
import type { DomainCheckDeps } from "../domain-check/check.ts";
import { adminRoutes } from "./routes/admin.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import { docsRoutes } from "./routes/openapi.ts";
import { notFoundAnswer } from "./routes/welcome.ts";
import { Failure } from "../core/failure.ts";
import { unsubscribeRoutes } from "./routes/unsubscribe.ts";
import { UNSUBSCRIBE_PATH } from "./list-unsubscribe.ts";
import type { TokenMac } from "../suppression/unsubscribe-token.ts";

// A one-click POST is `List-Unsubscribe=One-Click` (RFC 8058 §3.1): a form, never a message.
const UNSUBSCRIBE_BODY_LIMIT = 8 * 1024;
import type { ReportSettings } from "../tlsrpt/settings.ts";

export interface AppDeps {
  gateway: Gateway;
  metrics: Metrics;
  smtpHandler: SubmissionHandler;
  hostname: string;
  maxMessageBytes: number;
  /** Messages in one POST /v1/messages/batch (SMARTHOST_MAX_BATCH). */
  maxBatch?: number;
  /** Enables the ingress handoff routes. */
  gatewayToken?: string;
  /** When set, /metrics wants `Authorization: Bearer <token>` (SMARTHOST_METRICS_TOKEN). */
  metricsToken?: string;
  /** Enables the admin API (/v1/admin); it answers 404 when unset. */
  adminToken?: string;
  /** The box that seals secrets at rest (route passwords added over the admin API). */
  secrets?: SecretBox | Promise<SecretBox>;
  log: (event: string, fields: Record<string, unknown>) => void;
  /** Enables GET /v1/domains/{domain} (needs DNS, so not on Workers). */
  domainCheck?: DomainCheckDeps;
  /** Webhook endpoints need the secret box (absent: those routes answer 503). */
  webhooks?: WebhookRouteDeps;
  /** Enables the public one-click unsubscribe links (/u/TOKEN): the key their tokens are signed with. */
  unsubscribe?: TokenMac;
  /**
   * Route groups mounted beside the API (the dashboard): composed by the caller (src/stack.ts),
   * so the gateway imports none of the adapters above it.
   */
  // Any env: each group brings its own variables (the dashboard its session).
  mounts?: { path: string; routes: Hono<any> }[];
  /** The TLS reports' sender settings, for /v1/admin/tlsrpt. */
  tlsrpt?: ReportSettings;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const tooLarge = new Failure("too-large", `Request exceeds ${deps.maxMessageBytes} octets of message`);
  const limit = bodyLimit({ maxSize: httpBodyLimit(deps.maxMessageBytes), onError: () => { throw tooLarge; } });

  // The one place an HTTP request's failure is answered and, when it is ours, logged (errors.ts).
  app.onError((err, c) => {
    const e = toHttpError(reportFailure(err, deps.log, "http_error", { method: c.req.method, path: c.req.path }));
    return c.json(e.body, e.status as 400, e.headers);
  });
  // / and /dashboard (when off) answer with where the docs are and how to turn the dashboard on.
  app.notFound((c) => notFoundAnswer(c, (deps.mounts ?? []).some((m) => m.path === "/dashboard")));

  const { auth, storage } = deps.gateway;
  const health = new Cached(HEALTH_CACHE_MS, () => storage.db.run(sql`SELECT 1`).then(() => true, () => false));
  app.get("/healthz", async (c) => ((await health.get(Date.now())) ? c.json({ status: "ok" }) : c.json({ status: "unavailable" }, 503)));
  app.get("/metrics", async (c) => {
    const token = deps.metricsToken;
    const given = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    if (token && (!given || !constantTimeEqual(given, token))) {
      return c.json({ error: { code: "unauthenticated", message: "Missing or invalid metrics token" } }, 401, { "WWW-Authenticate": "Bearer" });
    }
    return c.text(await deps.metrics.render(), 200, { "content-type": deps.metrics.contentType });
  });

  app.use("/v1/*", limit);
  app.route("/v1/messages", messageRoutes(deps.gateway, storage, deps.hostname, deps.maxBatch ?? DEFAULT_MAX_BATCH, deps.metrics));
  if (deps.domainCheck) app.route("/v1/domains", domainRoutes(auth, storage, deps.domainCheck));
  app.route("/v1/suppressions", suppressionRoutes(auth, storage));
  app.route("/v1/events", eventRoutes(auth, storage));
  app.route("/v1/webhooks", webhookRoutes(auth, storage, { log: deps.log, ...(deps.webhooks ?? { allowPrivate: false }) }));
  if (deps.unsubscribe) {
    app.use(`${UNSUBSCRIBE_PATH}/*`, bodyLimit({ maxSize: UNSUBSCRIBE_BODY_LIMIT, onError: () => { throw tooLarge; } }));
    app.route(UNSUBSCRIBE_PATH, unsubscribeRoutes({ writer: storage.writer, mac: deps.unsubscribe, log: deps.log }));
  }
  if (deps.gatewayToken) {
    app.use(`${HANDOFF_PATH}/*`, limit);
    app.route(HANDOFF_PATH, handoffRoutes(deps.smtpHandler, deps.gatewayToken, { log: deps.log }));
  }
  if (deps.adminToken) app.route("/v1/admin", adminRoutes({ db: storage.db, sql: storage.sql, writer: storage.writer, token: deps.adminToken, hostname: deps.hostname, secrets: deps.secrets, domainCheck: deps.domainCheck, allowPrivateWebhooks: deps.webhooks?.allowPrivate, tlsrpt: deps.tlsrpt }));
  for (const m of deps.mounts ?? []) app.route(m.path, m.routes);
  app.route("/", docsRoutes(app));
  return app;
}
