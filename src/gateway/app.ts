/** The gateway's HTTP face: one Hono app, runtime-neutral. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { sql } from "drizzle-orm";
import type { SubmissionHandler } from "../smtp/handler.ts";
import { GatewayError, toHttpError } from "./errors.ts";
import type { Gateway } from "./gateway.ts";
import type { Metrics } from "./metrics.ts";
import { handoffRoutes } from "./routes/handoff.ts";
import { messageRoutes } from "./routes/messages.ts";
import { suppressionRoutes } from "./routes/suppressions.ts";
import { eventRoutes } from "./routes/events.ts";
import { webhookRoutes, type WebhookRouteDeps } from "./routes/webhooks.ts";
import { HANDOFF_PATH } from "./handoff.ts";
import { httpBodyLimit } from "../config.ts";

export interface AppDeps {
  gateway: Gateway;
  metrics: Metrics;
  smtpHandler: SubmissionHandler;
  hostname: string;
  maxMessageBytes: number;
  /** Enables the ingress handoff routes. */
  gatewayToken?: string;
  log: (event: string, fields: Record<string, unknown>) => void;
  /** Webhook endpoints need the secret box (absent: those routes answer 503). */
  webhooks?: WebhookRouteDeps;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const tooLarge = new GatewayError("too-large", `Request exceeds ${deps.maxMessageBytes} octets of message`);
  const limit = bodyLimit({ maxSize: httpBodyLimit(deps.maxMessageBytes), onError: () => { throw tooLarge; } });

  app.onError((err, c) => {
    if (err instanceof GatewayError) {
      const e = toHttpError(err);
      return c.json(e.body, e.status as 400, e.headers);
    }
    deps.log("http_error", { path: c.req.path, error: String(err) });
    return c.json({ error: { code: "internal", message: "Internal error" } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: "not_found", message: "No such route" } }, 404));

  app.get("/healthz", async (c) => {
    try {
      await deps.gateway.db.run(sql`SELECT 1`);
      return c.json({ status: "ok" });
    } catch {
      return c.json({ status: "unavailable" }, 503);
    }
  });
  app.get("/metrics", async (c) => c.text(await deps.metrics.render(), 200, { "content-type": deps.metrics.contentType }));

  app.use("/v1/*", limit);
  app.route("/v1/messages", messageRoutes(deps.gateway, deps.hostname));
  app.route("/v1/suppressions", suppressionRoutes(deps.gateway));
  app.route("/v1/events", eventRoutes(deps.gateway));
  app.route("/v1/webhooks", webhookRoutes(deps.gateway, deps.webhooks ?? { allowPrivate: false }));
  if (deps.gatewayToken) {
    app.use(`${HANDOFF_PATH}/*`, limit);
    app.route(HANDOFF_PATH, handoffRoutes(deps.smtpHandler, deps.gatewayToken));
  }
  return app;
}
