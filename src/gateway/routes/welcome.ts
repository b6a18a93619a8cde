/**
 * What someone who opens the relay's address in a browser (or curls it) is told: where the
 * docs are and how the dashboard is turned on, instead of a bare JSON 404. Answered from
 * the not-found handler, so these are not API routes (nor in the OpenAPI document).
 */
import type { Context } from "hono";

const ENABLE = "set SMARTHOST_ADMIN_TOKEN (at least 32 characters, e.g. openssl rand -base64 32) in the service's configuration and restart";
// No address of its own to link to: the README ships with every install.
const README = "README.md, next to package.json where smarthost is installed";

const wantsHtml = (c: Context) => /text\/html/.test(c.req.header("accept") ?? "");

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function page(title: string, lines: string[]): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head><body style="font: 15px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">` +
    `<h1>${escapeHtml(title)}</h1>${lines.map((l) => `<p>${l}</p>`).join("")}</body></html>`;
}

/** GET / : what this is and where to go from here. */
function home(c: Context, dashboard: boolean): Response {
  const body = {
    name: "smarthost",
    docs: "/docs",
    openapi: "/openapi.json",
    health: "/healthz",
    dashboard: dashboard ? "/dashboard" : null,
    ...(dashboard ? {} : { dashboard_hint: `the dashboard is off: ${ENABLE}` }),
    readme: README,
  };
  if (!wantsHtml(c)) return c.json(body);
  return c.html(page("smarthost", [
    'An SMTP relay. The HTTP API is described at <a href="/docs">/docs</a> (<a href="/openapi.json">openapi.json</a>); health at <a href="/healthz">/healthz</a>.',
    dashboard ? 'Operators: <a href="/dashboard">the dashboard</a> (log in with the admin token).' : `The dashboard is off: ${escapeHtml(ENABLE)}.`,
    `Setting it up: ${escapeHtml(README)}.`,
  ]));
}

/** /dashboard on a node without SMARTHOST_ADMIN_TOKEN: how to turn it on. */
function dashboardOff(c: Context): Response {
  const message = `The dashboard is off on this node: ${ENABLE}. API reference: /docs`;
  if (!wantsHtml(c)) return c.json({ error: { code: "dashboard_off", message, docs: "/docs" } }, 404);
  return c.html(page("The dashboard is off", [`${escapeHtml(ENABLE)[0]!.toUpperCase()}${escapeHtml(ENABLE).slice(1)}.`, 'The API reference: <a href="/docs">/docs</a>.']), 404);
}

/** The app's not-found answer: a hint at / and /dashboard, the API's JSON 404 elsewhere. */
export function notFoundAnswer(c: Context, dashboard: boolean): Response {
  const path = c.req.path;
  if (c.req.method === "GET" || c.req.method === "HEAD") {
    if (path === "/") return home(c, dashboard);
    if (!dashboard && /^\/dashboard(\/|$)/.test(path)) return dashboardOff(c);
  }
  return c.json({ error: { code: "not_found", message: "No such route" } }, 404);
}
