/**
 * The one-click unsubscribe links (RFC 8058 §3.1), public: the token is the credential.
 *
 * - `POST /u/TOKEN` with `List-Unsubscribe=One-Click` (form-urlencoded or multipart, as a
 *   mailbox provider sends it, no cookies): 200, never a redirect (§3.1: "MUST NOT"); the
 *   recipient is suppressed for the account (suppression/unsubscribe.ts).
 * - `GET /u/TOKEN` changes nothing — link scanners and prefetchers follow GETs — and shows a
 *   page whose button makes the same POST.
 *
 * Every bad token (malformed, forged, altered, or of an account that is gone) gets the same
 * 404, so an answer says nothing about which part was wrong.
 */
import { Hono, type Context } from "hono";
import type { GroupCommit } from "../../db/group-commit.ts";
import type { Logger } from "../../core/log.ts";
import { recordUnsubscribe } from "../../suppression/unsubscribe.ts";
import { readUnsubscribeToken, type TokenMac } from "../../suppression/unsubscribe-token.ts";

export interface UnsubscribeRouteDeps {
  writer: GroupCommit;
  mac: TokenMac;
  log: Logger;
  now?: () => number;
}

const HEADERS = {
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-robots-tag": "noindex",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
};

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escape(title)}</title>` +
    `<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{font:inherit;padding:.5rem 1.25rem}</style></head>` +
    `<body><h1>${escape(title)}</h1>${body}</body></html>`;
}

const wantsHtml = (c: Context) => /text\/html/i.test(c.req.header("accept") ?? "");

function notFound(c: Context, html: boolean) {
  if (html) return c.html(page("Link not valid", "<p>This unsubscribe link is not valid.</p>"), 404, HEADERS);
  return c.json({ error: { code: "not_found", message: "No such unsubscribe link" } }, 404, HEADERS);
}

/** RFC 8058 §3.1: the body names the key/value pair List-Unsubscribe=One-Click. */
async function isOneClick(c: Context): Promise<boolean> {
  const type = c.req.header("content-type") ?? "";
  if (/^multipart\/form-data/i.test(type)) {
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    return form["List-Unsubscribe"] === "One-Click";
  }
  return new URLSearchParams((await c.req.text()).trim()).getAll("List-Unsubscribe").includes("One-Click");
}

export function unsubscribeRoutes(deps: UnsubscribeRouteDeps): Hono {
  const app = new Hono();
  const now = deps.now ?? Date.now;

  app.get("/:token", async (c) => {
    const claim = await readUnsubscribeToken(deps.mac, c.req.param("token"));
    if (!claim) return notFound(c, true);
    // The form posts to this same URL, with the body a mailbox provider would send.
    const form = `<p>Stop mail from this sender to <strong>${escape(claim.address)}</strong>?</p>` +
      `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`;
    return c.html(page("Unsubscribe", form), 200, HEADERS);
  });

  app.post("/:token", async (c) => {
    const html = wantsHtml(c);
    const claim = await readUnsubscribeToken(deps.mac, c.req.param("token"));
    if (!claim) return notFound(c, html);
    if (!(await isOneClick(c))) {
      return c.json({ error: { code: "invalid_unsubscribe", message: "The body must be List-Unsubscribe=One-Click (RFC 8058)" } }, 400, HEADERS);
    }
    const outcome = await recordUnsubscribe(deps.writer, claim, now());
    if (outcome === "no-account") return notFound(c, html);
    deps.log("unsubscribed", { account_id: claim.accountId, message_id: claim.messageId, outcome });
    if (html) return c.html(page("Unsubscribed", "<p>You will get no more mail from this sender at this address.</p>"), 200, HEADERS);
    return c.json({ status: "unsubscribed" }, 200, HEADERS);
  });

  return app;
}
