/**
 * GET /dashboard: the operators' web page, served by the same Hono app as the API on every
 * deployment (Bun, the single binary, Workers). Server-rendered with hono/jsx (text is
 * escaped by it), htmx for the live parts and uPlot for the charts, both served from here
 * (assets.gen.ts: embedded at build time, so no file is read at run time on any runtime).
 * On only with SMARTHOST_ADMIN_TOKEN, which is also the login.
 */
import { Hono } from "hono";
import type { Storage } from "../db/storage.ts";
import { ASSETS } from "./assets.gen.ts";
import { loginRoutes, logoutRoute, requireSession, type DashboardEnv } from "./auth.tsx";
import { pageRoutes } from "./pages.tsx";
import { SessionKeys } from "./session.ts";
import { setupRoutes, type SetupDeps } from "./setup.ts";

export interface DashboardDeps {
  storage: Storage;
  token: string;
  hostname: string;
  now?: () => number;
  /** What the setup pages need beyond storage: the secret box, DNS, the webhook rule. */
  setup?: Pick<SetupDeps, "secrets" | "domainCheck" | "allowPrivateWebhooks">;
}

// A Map, not the object itself: a name from the URL such as "constructor" or "__proto__"
// must find nothing rather than something inherited from Object.prototype.
const ASSET_BY_NAME: ReadonlyMap<string, { type: string; body: string }> = new Map(Object.entries(ASSETS));

// No inline script or style anywhere: every script and style sheet is one of ours (ASSETS).
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  // The message preview (pages.tsx), a sandboxed frame with its own stricter policy.
  "frame-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

export function dashboardRoutes(deps: DashboardDeps): Hono<DashboardEnv> {
  const now = deps.now ?? Date.now;
  const keys = new SessionKeys(deps.token, () => deps.storage.db.$client);
  const app = new Hono<DashboardEnv>();
  app.use("*", async (c, next) => {
    await next();
    // A page may set a stricter policy of its own (the message preview); every other gets ours.
    c.header("Content-Security-Policy", c.res.headers.get("Content-Security-Policy") ?? CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "no-referrer");
    c.header("X-Frame-Options", c.res.headers.get("X-Frame-Options") ?? "DENY");
    if (!c.req.path.startsWith("/dashboard/assets/")) c.header("Cache-Control", "no-store");
  });
  app.get("/assets/:name", (c) => {
    const asset = ASSET_BY_NAME.get(c.req.param("name"));
    if (!asset) return c.text("Not found", 404);
    return c.body(asset.body, 200, { "content-type": asset.type, "cache-control": "public, max-age=604800" });
  });
  loginRoutes(app, { db: deps.storage.db, token: deps.token, keys, hostname: deps.hostname, now });
  app.use("*", requireSession(keys, now));
  logoutRoute(app, keys);
  pageRoutes(app, { storage: deps.storage, hostname: deps.hostname, now });
  setupRoutes(app, { storage: deps.storage, hostname: deps.hostname, now, ...deps.setup });
  return app;
}
