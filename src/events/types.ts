/**
 * The events senders see, on the feed (GET /v1/events) and as webhooks: one list of
 * types, one payload shape. The internal trace (the `events` table) stays as it is.
 */
export const EVENT_TYPES = [
  "message.delivered",
  "message.deferred",
  "message.bounced",
  "message.suppressed",
  "message.held",
  "message.complained",
  "suppression.added",
  "suppression.removed",
  "recipient.unsubscribed",
  "route.degraded",
  "route.recovered",
  "webhook.disabled",
  "account.paused",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export const isEventType = (s: string): s is EventType => (EVENT_TYPES as readonly string[]).includes(s);

/** The upstream's reply as a value (RFC 5321 §4.2; enhanced code RFC 3463). */
export interface UpstreamReply {
  code: number;
  enhanced: string | null;
  text: string;
}

/** Why a recipient bounced, for senders that act on it (RFC 3463 classes). */
export type BounceClass = "recipient" | "mailbox-full" | "policy" | "domain" | "other";

/** A webhook's `data`; fields that do not apply are left out. */
export interface EventData {
  message_id?: string;
  account?: string;
  from?: string;
  recipient?: string;
  subject?: string;
  /** Route events' tenant copies carry the codes only (src/shaping/route-events.ts). */
  reply?: UpstreamReply | Omit<UpstreamReply, "text">;
  route?: string;
  attempt?: number;
  bounce_class?: BounceClass;
  [extra: string]: unknown;
}
