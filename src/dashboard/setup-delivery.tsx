/** @jsxImportSource hono/jsx */
/**
 * Setup pages for where mail goes and what it carries: routes (a URL's credentials never
 * shown back), DKIM keys (the records to publish, and the domain check of what DNS shows),
 * suppressions and webhooks (the signing secret shown once). Each calls the src/admin
 * function that the CLI and /v1/admin call.
 */
import type { Hono } from "hono";
import * as v from "valibot";
import { addDkimKey, listDkimKeys, removeDkimKey, rotateDkimKey, type DkimKeyView } from "../admin/dkim.ts";
import { checkRouteUrl, findRoute, listRoutes, maskRouteUrl, removeRoute } from "../admin/route-list.ts";
import { addRoute, setRouteQuota } from "../admin/routes.ts";
import { suppressAddress, suppressionRows, unsuppressAddress, type FeedbackDb } from "../admin/suppressions.ts";
import { addWebhook, removeWebhook, rotateWebhook, webhookRows } from "../admin/webhooks.ts";
import { Failure } from "../core/failure.ts";
import { checkNamedDomain, type DomainCheckDeps } from "../domain-check/check.ts";
import { EVENT_TYPES } from "../events/types.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import type { DashboardEnv } from "./auth.tsx";
import { accountField, editLink, editing, limit, limitValue, optionalText, removal, required, rowAction, setupPage } from "./setup-kit.tsx";
import { BASE } from "./views/layout.tsx";
import { DomainReportView } from "./views/setup-report.tsx";
import { SetupTable } from "./views/setup-form.tsx";

export interface DeliverySetupDeps {
  feedback: FeedbackDb;
  hostname: string;
  now: () => number;
  /** SMARTHOST_SECRET_KEY's box: route passwords, DKIM private keys and webhook secrets are sealed with it. */
  secrets?: SecretBox | Promise<SecretBox>;
  /** Where the node has DNS (not on Workers): what a DKIM domain publishes now. */
  domainCheck?: DomainCheckDeps;
  /** SMARTHOST_ALLOW_PRIVATE_WEBHOOKS. */
  allowPrivateWebhooks: boolean;
}

/** The box, or the reason nothing secret can be stored on this node. */
async function sealing(deps: DeliverySetupDeps, what: string): Promise<SecretBox> {
  if (!deps.secrets) throw new Failure("temporary", `${what} cannot be made here: SMARTHOST_SECRET_KEY is not set`, { code: "no_secret_key" });
  return deps.secrets;
}

export function deliverySetupRoutes(app: Hono<DashboardEnv>, deps: DeliverySetupDeps): void {
  const { feedback: d, hostname } = deps;
  const db = d.db;

  setupPage(app, {
    slug: "routes",
    title: "Routes",
    legend: "New route (several for one domain: failover in order)",
    submit: "Add route",
    fields: async () => [
      { name: "domain", label: "Recipient domain", kind: "text", required: true, placeholder: "example.net or *" },
      // Typed like a password: it may hold one, and it is never put back into the page.
      { name: "url", label: "Route URL", kind: "password", required: true, secret: true, hint: "mx, smtp://[user:pass@]host:port or smtps://…; credentials are never shown again" },
      { name: "per_second", label: "Provider quota per second", kind: "number", hint: "empty: none" },
      { name: "per_minute", label: "per minute", kind: "number", hint: "empty: none" },
      { name: "per_day", label: "per day", kind: "number", hint: "empty: none" },
    ],
    schema: v.object({ domain: required("Recipient domain"), url: required("Route URL"), per_second: limit("Quota per second"), per_minute: limit("Quota per minute"), per_day: limit("Quota per day") }),
    create: async (b) => {
      checkRouteUrl(b.url);
      const position = await addRoute(db, await sealing(deps, "Routes"), b.domain, b.url, { perSecond: b.per_second, perMinute: b.per_minute, perDay: b.per_day });
      return { done: `route ${position + 1} for ${b.domain.toLowerCase()}: ${maskRouteUrl(b.url)}` };
    },
    list: async (csrf) => (
      <SetupTable slug="routes" csrf={csrf} head={["domain", "order", "URL", "quota (s / min / day)", "health"]} empty="No routes: every domain goes to SMARTHOST_UPSTREAM."
        rows={(await listRoutes(db)).map((r) => ({ cells: [r.domain, r.position + 1, <code>{r.url}</code>, [r.per_second, r.per_minute, r.per_day].map((n) => n ?? "-").join(" / "), r.health ?? "-"], remove: { domain: r.domain, url: r.url }, edit: editLink("routes", { domain: r.domain, url: r.url }) }))} />
    ),
  }, hostname);
  // A route's URL (and its credentials) is not edited: remove it and add the new one.
  editing(app, {
    slug: "routes",
    keys: ["domain", "url"],
    legend: ({ domain, url }) => `Route for ${domain}: ${url}`,
    fields: () => [
      { name: "per_second", label: "Provider quota per second", kind: "number", hint: "empty: none" },
      { name: "per_minute", label: "per minute", kind: "number", hint: "empty: none" },
      { name: "per_day", label: "per day", kind: "number", hint: "empty: none" },
    ],
    load: async ({ domain, url }) => {
      const r = (await listRoutes(db)).find((x) => x.domain === domain && x.url === url);
      if (!r) throw new Failure("not-found", `no route for ${domain} to ${maskRouteUrl(url)}`);
      return { per_second: limitValue(r.per_second), per_minute: limitValue(r.per_minute), per_day: limitValue(r.per_day) };
    },
    schema: v.object({ per_second: limit("Quota per second"), per_minute: limit("Quota per minute"), per_day: limit("Quota per day") }),
    update: async ({ domain, url }, b) => {
      const row = await findRoute(db, domain, url);
      await setRouteQuota(db, row.id, { perSecond: b.per_second, perMinute: b.per_minute, perDay: b.per_day });
      return `route ${row.domain} ${maskRouteUrl(row.url)}: quota ${b.per_second ?? "none"} a second, ${b.per_minute ?? "none"} a minute, ${b.per_day ?? "none"} a day`;
    },
  }, "Routes", hostname);
  removal(app, {
    slug: "routes",
    schema: v.object({ domain: required("Domain"), url: required("Route URL") }),
    remove: async (b) => {
      const r = await removeRoute(db, b.domain, b.url);
      return `route ${r.domain} ${r.url} removed; ${r.queued} queued recipient(s) now go ${r.now_via}`;
    },
  });

  /** New keys with the records to publish and what DNS shows now. */
  const published = async (keys: DkimKeyView[], how: string) => {
    const domain = keys[0]!.domain;
    return {
      done: `DKIM ${keys.map((k) => `${k.selector} (${k.algorithm})`).join(" and ")} ${how} for ${domain}`,
      more: (
        <section class="records" aria-label="DNS records to publish">
          <h2>Publish in DNS</h2>
          {keys.map((k) => <pre class="record">{k.record}</pre>)}
          {await report(domain)}
        </section>
      ),
    };
  };
  const report = async (domain: string) => (deps.domainCheck ? <DomainReportView report={await checkNamedDomain(deps.domainCheck, domain)} /> : <p class="muted">This node has no DNS resolver: run smarthost domain check {domain} where it has one.</p>);
  setupPage(app, {
    slug: "dkim",
    title: "DKIM keys",
    legend: "New DKIM key (signs at once)",
    submit: "Create key",
    fields: async () => [
      { name: "domain", label: "Signing domain", kind: "text", required: true, placeholder: "example.com" },
      { name: "selector", label: "Selector", kind: "text", hint: "empty: shYYYYMMDD" },
      { name: "algorithm", label: "Algorithm", kind: "select", options: [["rsa", "RSA 2048"], ["ed25519", "Ed25519"], ["both", "both (two selectors)"]] },
    ],
    schema: v.object({ domain: required("Signing domain"), selector: optionalText(), algorithm: v.optional(v.picklist(["rsa", "ed25519", "both"], "Algorithm: rsa, ed25519 or both"), "rsa") }),
    create: async (b) => published(await addDkimKey({ db, secrets: await sealing(deps, "DKIM keys"), now: deps.now }, b.domain, { selector: b.selector, algorithm: b.algorithm }), "made"),
    list: async (csrf) => (
      <SetupTable slug="dkim" csrf={csrf} head={["domain", "selector", "algorithm", "state", "DNS record"]} empty="No DKIM keys."
        rows={(await listDkimKeys({ db })).map((k) => ({ cells: [<a href={`${BASE}/setup/dkim?check=${encodeURIComponent(k.domain)}`} title="what DNS shows now">{k.domain}</a>, k.selector, k.algorithm, k.state, <code class="record">{k.record}</code>], remove: { domain: k.domain, selector: k.selector }, actions: k.state === "active" ? [{ verb: "rotate", fields: { domain: k.domain } }] : [] }))} />
    ),
    // New selectors, pending until their records are published; the old ones then retire (as `dkim rotate`).
    actions: [
      rowAction("rotate", v.object({ domain: required("Signing domain") }), async (b) =>
        published(await rotateDkimKey({ db, secrets: await sealing(deps, "DKIM keys"), now: deps.now }, b.domain), "made, pending until published,")),
    ],
    above: async (c) => {
      const domain = c.req.query("check");
      if (!domain) return null;
      try {
        return await report(domain);
      } catch (err) {
        if (err instanceof Failure && err.kind === "invalid") return <p class="error" role="alert">{err.message}</p>;
        throw err;
      }
    },
  }, hostname);
  removal(app, {
    slug: "dkim",
    schema: v.object({ domain: required("Domain"), selector: required("Selector") }),
    remove: async (b) => {
      await removeDkimKey({ db }, b.domain, b.selector);
      return `DKIM ${b.selector} of ${b.domain} removed (keep its DNS record until mail signed with it is delivered)`;
    },
  });

  setupPage(app, {
    slug: "suppressions",
    title: "Suppressions",
    legend: "Suppress an address (mail to it is refused until removed)",
    submit: "Suppress",
    fields: async () => [await accountField(db), { name: "address", label: "Address", kind: "text", required: true, placeholder: "bob@example.org or *@example.org" }],
    schema: v.object({ account: required("Account"), address: required("Address") }),
    create: async (b) => ({ done: `${await suppressAddress(d, b.account, b.address)} suppressed for ${b.account}` }),
    list: async (csrf) => (
      <SetupTable slug="suppressions" csrf={csrf} head={["account", "address", "reason", "since", "until"]} empty="No suppressed addresses."
        rows={(await suppressionRows(d, undefined)).map((s) => ({ cells: [s.account, s.address, s.reason, s.created_at, s.expires_at ?? "no expiry"], remove: { account: s.account, address: s.address } }))} />
    ),
  }, hostname);
  removal(app, {
    slug: "suppressions",
    schema: v.object({ account: required("Account"), address: required("Address") }),
    remove: async (b) => {
      await unsuppressAddress(d, b.account, b.address);
      return `${b.address} removed from ${b.account}'s suppressions`;
    },
  });

  setupPage(app, {
    slug: "webhooks",
    title: "Webhooks",
    legend: "New webhook (Standard Webhooks, signed with its whsec_ secret)",
    submit: "Create webhook",
    fields: async () => [
      await accountField(db),
      { name: "url", label: "URL", kind: "text", required: true, placeholder: "https://app.example.com/hooks/mail" },
      { name: "events", label: "Events", kind: "checks", options: EVENT_TYPES, hint: "none ticked: every event" },
    ],
    schema: v.object({ account: required("Account"), url: required("URL"), events: v.pipe(v.optional(v.union([v.string(), v.array(v.string())]), []), v.transform((e) => (typeof e === "string" ? [e] : e))) }),
    create: async (b) => {
      const { id, secret } = await addWebhook(d, await sealing(deps, "Webhooks"), b.account, b.url, b.events.length > 0 ? b.events : undefined, deps.allowPrivateWebhooks);
      return { done: `webhook ${id} created for ${b.account}`, secret: { label: `Signing secret of ${id}`, value: secret } };
    },
    list: async (csrf) => (
      <SetupTable slug="webhooks" csrf={csrf} head={["id", "account", "URL", "events", "state"]} empty="No webhooks."
        rows={(await webhookRows(d, undefined)).map((e) => ({ cells: [<a href={`${BASE}/webhooks/${encodeURIComponent(e.id)}`}>{e.id}</a>, e.account, <code>{e.url}</code>, e.events?.join(", ") ?? "all", e.enabled ? "enabled" : `disabled (${e.disabled_reason ?? ""})`], remove: { id: e.id }, actions: [{ verb: "rotate", fields: { id: e.id } }] }))} />
    ),
    // A new signing secret, shown once; the old one keeps signing beside it for 24 hours (as `webhook rotate`).
    actions: [
      rowAction("rotate", v.object({ id: required("Webhook id") }), async (b) => ({
        done: `webhook ${b.id}: new signing secret; the old one also signs for 24 hours`,
        secret: { label: `Signing secret of ${b.id}`, value: await rotateWebhook(d, await sealing(deps, "Webhook secrets"), b.id) },
      })),
    ],
  }, hostname);
  removal(app, {
    slug: "webhooks",
    schema: v.object({ id: required("Webhook id") }),
    remove: async (b) => {
      await removeWebhook(d, b.id);
      return `webhook ${b.id} removed`;
    },
  });
}
