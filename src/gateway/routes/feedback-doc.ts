/** How the account's feedback routes (suppressions, events, webhooks) are described in /openapi.json. */
import type { MiddlewareHandler } from "hono";
import { EVENT_TYPES } from "../../events/types.ts";
import * as f from "./feedback-schemas.ts";
import { routeDoc, type QueryDoc, type RouteDoc } from "./route-doc.ts";

const doc = (d: RouteDoc): MiddlewareHandler => routeDoc(d, "apiKey");
const limit = (def: number, max: number): QueryDoc => ({ name: "limit", description: `at most this many (default ${def}, at most ${max})`, example: "20" });
const cursor: QueryDoc = { name: "cursor", description: "next_cursor from the previous page" };
const address = { address: "bob@example.org" };
const webhookId = { id: "01JD5W3Q2M8Z" };

export const suppressionDocs = {
  list: doc({ tag: "suppressions", summary: "The account's suppressed addresses in force", query: [{ name: "reason", description: "only entries with this reason", values: ["bounce", "complaint", "manual", "unsubscribe"] }, limit(100, 1000), cursor], ok: f.SuppressionPage, errors: [400] }),
  add: doc({ tag: "suppressions", summary: "Suppress an address or *@domain (or up to 1000 at once): mail to it is refused until removed", body: f.SuppressionAdd, example: { address: "bob@example.org", reason: "manual" }, ok: f.SuppressionsAdded, status: 201, errors: [400] }),
  show: doc({ tag: "suppressions", summary: "One suppressed address", params: address, ok: f.Suppression, errors: [400, 404] }),
  remove: doc({ tag: "suppressions", summary: "Send to an address again, at once", params: address, status: 204, errors: [400, 404] }),
};

export const eventDocs = {
  list: doc({
    tag: "events",
    summary: "The account's events in order after a cursor: the webhook bodies, for senders that poll",
    query: [{ name: "after", description: `an event id (evt_…); the events after it. Types: ${EVENT_TYPES.join(", ")}`, example: "evt_0" }, limit(100, 1000)],
    ok: f.EventPage,
    errors: [400],
  }),
};

export const webhookDocs = {
  list: doc({ tag: "webhooks", summary: "The account's webhook endpoints (never their secrets)", ok: f.WebhookList }),
  add: doc({ tag: "webhooks", summary: "Add a signed webhook endpoint; its whsec_ secret is returned once", body: f.WebhookAdd, example: { url: "https://hooks.example.com/smarthost", events: ["message.delivered", "message.bounced"] }, ok: f.WebhookCreated, status: 201, errors: [400, 503] }),
  show: doc({ tag: "webhooks", summary: "One endpoint", params: webhookId, ok: f.Webhook, errors: [404] }),
  update: doc({ tag: "webhooks", summary: "Change an endpoint's URL, events, or enable it again", params: webhookId, body: f.WebhookPatch, example: { enabled: true }, ok: f.Webhook, errors: [400, 404] }),
  remove: doc({ tag: "webhooks", summary: "Remove an endpoint and its pending deliveries", params: webhookId, status: 204, errors: [404] }),
  rotate: doc({ tag: "webhooks", summary: "A new secret, returned once; the old one keeps signing for 24 hours", params: webhookId, ok: f.WebhookSecret, errors: [404, 503] }),
  deliveries: doc({ tag: "webhooks", summary: "An endpoint's deliveries, newest first, each with its attempts", params: webhookId, query: [limit(50, 100), cursor], ok: f.DeliveryPage, errors: [400, 404] }),
  replay: doc({ tag: "webhooks", summary: "Send a delivery again now", params: { id: "42" }, ok: f.Replayed, status: 202, errors: [404] }),
};
