/** @jsxImportSource hono/jsx */
/**
 * Login, logout and the guard in front of every other dashboard route: a signed session
 * cookie (session.ts) or a redirect to the login; on POST, the session's CSRF token or 403.
 * The admin token is compared as the admin API compares it (digests, constant time), and
 * each try is counted in the AUTH throttle under the same name, so guessing through the
 * login is slowed and refused exactly like guessing through /v1/admin.
 */
import type { Context, Hono, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Db } from "../db/client.ts";
import { adminThrottleKeys } from "../gateway/routes/admin-http.ts";
import { finishAttempt, reserveAttempt } from "../policy/auth-throttle.ts";
import { constantTimeEqual } from "../util/bytes.ts";
import { sha256Hex } from "../util/hash.ts";
import { SESSION_COOKIE, SESSION_TTL_MS, type Session, type SessionKeys } from "./session.ts";
import { BASE, LoginPage } from "./views/layout.tsx";

export type DashboardEnv = { Variables: { session: Session } };

/** Served over TLS (directly, or by a proxy that says so): the cookie is then Secure. */
const overTls = (c: Context) => new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";

export function loginRoutes(app: Hono<DashboardEnv>, o: { db: Db; token: string; keys: SessionKeys; hostname: string; now: () => number }): void {
  app.get("/login", (c) => c.html(<LoginPage hostname={o.hostname} />));
  app.post("/login", async (c) => {
    const form = await c.req.parseBody();
    const given = typeof form.token === "string" ? form.token : "";
    const keys = adminThrottleKeys(c);
    const reserved = await reserveAttempt(o.db, keys, o.now());
    if (!reserved.ok) {
      c.header("Retry-After", String(reserved.retryAfterSeconds));
      return c.html(<LoginPage hostname={o.hostname} error="Too many failed logins: try again later." />, 429);
    }
    if (reserved.delayMs > 0) await new Promise((r) => setTimeout(r, reserved.delayMs));
    // Digests compared, so neither the content nor the length of the token shows in the time taken.
    const ok = constantTimeEqual(await sha256Hex(given), await sha256Hex(o.token));
    await finishAttempt(o.db, keys, ok, o.now());
    if (!ok) return c.html(<LoginPage hostname={o.hostname} error="That is not the admin token." />, 401);
    const { value } = await o.keys.issue(o.now());
    setCookie(c, SESSION_COOKIE, value, { path: BASE, httpOnly: true, sameSite: "Strict", secure: overTls(c), maxAge: SESSION_TTL_MS / 1000 });
    return c.redirect(BASE, 303);
  });
}

/** Every route but the login and the assets: a session, and on POST its CSRF token. */
export function requireSession(keys: SessionKeys, now: () => number): MiddlewareHandler<DashboardEnv> {
  return async (c, next) => {
    const session = await keys.read(getCookie(c, SESSION_COOKIE), now());
    if (!session) {
      // htmx follows HX-Redirect with a full navigation (a poll after the session ended).
      if (c.req.header("hx-request")) return c.body(null, 401, { "HX-Redirect": `${BASE}/login` });
      return c.redirect(`${BASE}/login`, 303);
    }
    if (c.req.method === "POST") {
      const form = (c.req.header("content-type") ?? "").includes("form") ? await c.req.parseBody() : {};
      const given = typeof form._csrf === "string" ? form._csrf : c.req.header("x-csrf-token");
      if (!(await keys.csrfOk(session, given))) return c.text("Forbidden: missing or wrong CSRF token", 403);
    }
    c.set("session", session);
    await next();
  };
}

export function logoutRoute(app: Hono<DashboardEnv>, keys: SessionKeys): void {
  app.post("/logout", async (c) => {
    // The row goes: a copy of the cookie taken before logout opens nothing afterwards.
    await keys.end(c.get("session"));
    deleteCookie(c, SESSION_COOKIE, { path: BASE, httpOnly: true, sameSite: "Strict", secure: overTls(c) });
    return c.redirect(`${BASE}/login`, 303);
  });
}
