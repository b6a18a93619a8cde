/**
 * The document's `webhooks` section (OpenAPI 3.1 §4.8.1): what the relay POSTs to an
 * account's endpoints, one entry per event type (events/types.ts), as Standard Webhooks:
 * the body `{type, timestamp, data}` and the webhook-id, webhook-timestamp and
 * webhook-signature headers (webhooks/sender.ts, webhooks/sign.ts).
 */
import * as v from "valibot";
import { EVENT_TYPES, type EventType } from "../../events/types.ts";
import { schema } from "./openapi-paths.ts";

const iso = v.pipe(v.string(), v.isoTimestamp());
const Reply = v.object({ code: v.number(), enhanced: v.nullable(v.string()), text: v.string() });

/** A message's outcome at one recipient (events/record.ts). */
const outcome = {
  message_id: v.string(),
  account: v.string(),
  from: v.string(),
  recipient: v.optional(v.string()),
  subject: v.optional(v.string()),
  reply: v.optional(Reply),
  /** Where it was tried: a route or an MX host. */
  route: v.optional(v.string()),
  attempt: v.optional(v.number()),
};

const DATA: Record<EventType, v.GenericSchema> = {
  "message.delivered": v.object(outcome),
  "message.deferred": v.object(outcome),
  "message.bounced": v.object({ ...outcome, bounce_class: v.optional(v.picklist(["recipient", "mailbox-full", "policy", "domain", "other"])), late: v.optional(v.literal(true)) }),
  // inbound/act.ts: an ARF report (RFC 5965) about a message the account sent.
  "message.complained": v.object({ message_id: v.string(), account: v.string(), from: v.string(), recipient: v.string(), subject: v.optional(v.string()), feedback_type: v.string(), user_agent: v.optional(v.string()) }),
  // complaints/rate.ts: the account's new mail is refused until `account resume`.
  "account.paused": v.object({ account: v.string(), reason: v.literal("complaint_rate"), detail: v.string(), window: v.picklist(["24h", "7d"]), complaint_rate: v.number(), complaints: v.number(), delivered: v.number(), threshold: v.number() }),
  // suppression/gate.ts: no message_id when nothing was stored (every recipient suppressed).
  "message.suppressed": v.object({ message_id: v.optional(v.string()), account: v.string(), from: v.string(), recipient: v.string(), reason: v.picklist(["bounce", "complaint", "manual", "unsubscribe"]), suppressed_since: iso }),
  "suppression.added": v.object({ account: v.string(), address: v.string(), reason: v.picklist(["bounce", "complaint", "manual", "unsubscribe"]), message_id: v.optional(v.string()), reply: v.optional(Reply), expires_at: v.optional(iso) }),
  "suppression.removed": v.object({ account: v.string(), address: v.string(), reason: v.picklist(["bounce", "complaint", "manual", "unsubscribe"]) }),
  // suppression/unsubscribe.ts: `from` is left out when the message is no longer stored.
  "recipient.unsubscribed": v.object({ message_id: v.string(), account: v.string(), from: v.optional(v.string()), recipient: v.string(), method: v.literal("one-click") }),
  "webhook.disabled": v.object({ webhook_id: v.string(), url: v.string(), reason: v.string() }),
  // Reserved: not sent yet; the fields of a message outcome where they apply.
  "message.held": v.looseObject(v.partial(v.object(outcome)).entries),
  "route.degraded": v.looseObject({ route: v.optional(v.string()) }),
  "route.recovered": v.looseObject({ route: v.optional(v.string()) }),
};

const header = (name: string, description: string, example: string) => ({ name, in: "header", required: true, description, schema: { type: "string" }, example });

const HEADERS = [
  header("webhook-id", "The event id (evt_…), the same on every retry: dedupe on it", "evt_42"),
  header("webhook-timestamp", "Unix seconds of this attempt", "1767225600"),
  header("webhook-signature", 'v1,<base64 HMAC-SHA256 of "id.timestamp.body"> keyed by the base64 after whsec_; two, space-separated, while a rotated secret is still valid', "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="),
];

export function webhookSection(): Record<string, object> {
  return Object.fromEntries(
    EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          tags: ["webhooks"],
          summary: `${type}, POSTed to each endpoint subscribed to it`,
          parameters: HEADERS,
          requestBody: {
            required: true,
            content: { "application/json": { schema: schema(v.object({ type: v.literal(type), timestamp: iso, data: DATA[type] })) } },
          },
          responses: {
            "2XX": { description: "Received; any other answer, or none within 15 s, is retried" },
            410: { description: "The endpoint is disabled at once (a webhook.disabled event)" },
          },
        },
      },
    ]),
  );
}
