/**
 * The feedback routes' bodies (valibot): the requests they validate with, and the
 * responses they answer with, for /openapi.json (feedback-doc.ts).
 */
import * as v from "valibot";
import { EVENT_TYPES } from "../../events/types.ts";
import { MESSAGE_STATUSES } from "../../events/message-search.ts";
import { BULK_LIMIT } from "../../suppression/manage.ts";

const iso = v.pipe(v.string(), v.isoTimestamp());
const page = <T extends v.GenericSchema>(item: T) => v.object({ data: v.array(item), next_cursor: v.nullable(v.string()) });

// Requests (the routes validate with these).
const manualReason = v.optional(v.picklist(["manual", "complaint"]), "manual");
export const SuppressionAdd = v.union([
  v.object({ address: v.string(), reason: manualReason }),
  v.object({ addresses: v.pipe(v.array(v.string()), v.minLength(1), v.maxLength(BULK_LIMIT, `at most ${BULK_LIMIT} addresses at once`)), reason: manualReason }),
]);
const Events = v.nullable(v.pipe(v.array(v.string()), v.maxLength(20)));
export const WebhookAdd = v.object({ url: v.pipe(v.string(), v.maxLength(2048)), events: v.optional(Events) });
export const WebhookPatch = v.object({ url: v.optional(v.pipe(v.string(), v.maxLength(2048))), events: v.optional(Events), enabled: v.optional(v.boolean()) });

// Responses.
export const Accepted = v.object({
  id: v.string(),
  status: v.literal("queued"),
  suppressed: v.array(v.string()),
  /** Accepted, but the sender should know (gateway/list-unsubscribe.ts); absent when there is none. */
  warnings: v.optional(v.array(v.object({ code: v.string(), message: v.string() }))),
});
export const MessagePage = page(
  v.object({
    id: v.string(),
    status: v.picklist(MESSAGE_STATUSES),
    source: v.string(),
    mail_from: v.string(),
    size: v.number(),
    created_at: iso,
    recipients: v.array(v.object({ address: v.string(), state: v.string() })),
  }),
);
export const Suppression = v.object({
  address: v.string(),
  reason: v.picklist(["bounce", "complaint", "manual", "unsubscribe"]),
  message_id: v.nullable(v.string()),
  created_at: iso,
  expires_at: v.nullable(iso),
});
export const SuppressionPage = page(Suppression);
export const SuppressionsAdded = v.object({ data: v.array(Suppression) });
/** One event as on the feed: the webhook body plus its `webhook-id`. */
export const FeedEvent = v.object({ id: v.string(), type: v.picklist(EVENT_TYPES), timestamp: iso, data: v.record(v.string(), v.unknown()) });
export const EventPage = page(FeedEvent);
export const Webhook = v.object({
  id: v.string(),
  url: v.string(),
  events: v.nullable(v.array(v.string())),
  enabled: v.boolean(),
  disabled_reason: v.nullable(v.string()),
  previous_secret_valid_until: v.nullable(iso),
  created_at: iso,
});
export const WebhookList = v.object({ data: v.array(Webhook) });
/** `secret` (whsec_…) is shown this once. */
export const WebhookCreated = v.object({ ...Webhook.entries, secret: v.string() });
export const WebhookSecret = v.object({ id: v.string(), secret: v.string() });
export const DeliveryPage = page(
  v.object({
    id: v.number(),
    event_id: v.string(),
    type: v.string(),
    state: v.string(),
    attempts: v.number(),
    next_attempt_at: v.nullable(iso),
    last_status: v.nullable(v.number()),
    created_at: iso,
    attempt_log: v.array(v.object({ at: iso, status: v.nullable(v.number()), latency_ms: v.number(), response: v.nullable(v.string()) })),
  }),
);
export const Replayed = v.object({ id: v.number(), state: v.literal("pending") });

/** POST /v1/messages/batch: each message's result in its place (gateway/routes/messages.ts). */
export const BatchResults = v.object({
  data: v.array(
    v.union([
      v.object({ id: v.string(), status: v.literal("queued"), suppressed: v.array(v.string()), warnings: v.optional(v.array(v.object({ code: v.string(), message: v.string() }))), send_at: v.optional(iso) }),
      v.object({ error: v.object({ code: v.string(), message: v.string(), field: v.optional(v.string()) }) }),
    ]),
  ),
});
