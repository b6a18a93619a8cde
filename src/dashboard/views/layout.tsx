/** @jsxImportSource hono/jsx */
/** The page frame: navigation, the relay's own scripts and styles, the logout form. */
import type { Child } from "hono/jsx";
import { ASSET_VERSION } from "../assets.gen.ts";

export const BASE = "/dashboard";
// The version changes with the embedded assets, so they may be cached for long.
const ASSET = (name: string) => `${BASE}/assets/${name}?v=${ASSET_VERSION}`;

const NAV: [string, string][] = [
  ["", "Overview"],
  ["/messages", "Messages"],
  ["/suppressions", "Suppressions"],
  ["/webhooks", "Webhooks"],
  ["/accounts", "Accounts & keys"],
  ["/routes", "Routes & DKIM"],
  ["/setup", "Set up"],
];

/** An instant as shown on every page: to the second, in UTC, saying so (whatever the browser's zone). */
export const time = (ms: number | null | undefined) => (ms === null || ms === undefined || !Number.isFinite(ms) ? "" : `${new Date(ms).toISOString().replace("T", " ").slice(0, 19)} UTC`);

export function Page(p: { title: string; path: string; csrf: string; hostname: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {/* htmx must not add its own <style> (the CSP allows only the relay's style sheets) nor evaluate code. */}
        <meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}' />
        <title>{`${p.title} · smarthost ${p.hostname}`}</title>
        <link rel="stylesheet" href={ASSET("uPlot.min.css")} />
        <link rel="stylesheet" href={ASSET("dashboard.css")} />
        <script src={ASSET("htmx.min.js")} defer></script>
        <script src={ASSET("uPlot.iife.min.js")} defer></script>
        <script src={ASSET("dashboard.js")} defer></script>
      </head>
      <body>
        <header>
          <strong>smarthost</strong> <span class="muted">{p.hostname}</span>
          <nav>
            {NAV.map(([href, label]) => (
              <a href={`${BASE}${href}`} class={p.path === href ? "active" : ""}>
                {label}
              </a>
            ))}
          </nav>
          <form method="post" action={`${BASE}/logout`} class="logout">
            <input type="hidden" name="_csrf" value={p.csrf} />
            <button type="submit">Log out</button>
          </form>
        </header>
        <main>
          <h1>{p.title}</h1>
          {p.children}
        </main>
      </body>
    </html>
  );
}

/** A region htmx reloads every few seconds from the same URL (the server answers the fragment alone). */
export function Live(p: { url: string; children: Child }) {
  return (
    <div id="live" hx-get={p.url} hx-trigger="every 4s" hx-swap="innerHTML">
      {p.children}
    </div>
  );
}

/** A POST button carrying the session's CSRF token. */
export function Action(p: { action: string; csrf: string; label: string; fields?: Record<string, string>; confirm?: boolean; cls?: string }) {
  return (
    <form method="post" action={p.action} class="inline">
      <input type="hidden" name="_csrf" value={p.csrf} />
      {Object.entries(p.fields ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <button type="submit" class={p.cls ?? ""} data-confirm={p.confirm ? `${p.label}?` : undefined}>
        {p.label}
      </button>
    </form>
  );
}

export function Flash(p: { text: string | undefined }) {
  return p.text ? <p class="flash">{p.text}</p> : null;
}

export function LoginPage(p: { error?: string; hostname: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>{`Log in · smarthost ${p.hostname}`}</title>
        <link rel="stylesheet" href={ASSET("dashboard.css")} />
      </head>
      <body class="login">
        <form method="post" action={`${BASE}/login`}>
          <h1>smarthost</h1>
          <p class="muted">{p.hostname}</p>
          <label>
            Admin token
            <input type="password" name="token" autocomplete="current-password" required autofocus />
          </label>
          {p.error ? <p class="error">{p.error}</p> : null}
          <button type="submit">Log in</button>
        </form>
      </body>
    </html>
  );
}
