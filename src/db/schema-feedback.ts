/** Tables of what senders hear back: the suppression list, the account event feed, webhooks and their deliveries. */
import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { accounts } from "./schema.ts";

/**
 * Addresses an account no longer sends to: hard bounces (recipient's fault), complaints,
 * manual entries. `address` is lower-case, or "*@domain" for a whole domain.
 */
export const suppressions = sqliteTable(
  "suppressions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: text("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    address: text("address").notNull(),
    reason: text("reason", { enum: ["bounce", "complaint", "manual", "unsubscribe"] }).notNull(),
    messageId: text("message_id"),
    createdAt: integer("created_at").notNull(),
    /** Null: until removed. */
    expiresAt: integer("expires_at"),
  },
  (t) => [uniqueIndex("suppressions_account_address").on(t.accountId, t.address)],
);

/**
 * What happened, as senders see it (`message.delivered`, `suppression.added`, …): the
 * event feed (GET /v1/events) and the source of every webhook delivery. `id` is the cursor.
 * A null account: the operators' feed (route events, src/shaping/route-events.ts).
 */
export const accountEvents = sqliteTable(
  "account_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: text("account_id").references(() => accounts.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    messageId: text("message_id"),
    /** The webhook payload's `data`, as JSON. */
    data: text("data").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("account_events_account").on(t.accountId, t.id)],
);

export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    /** Comma-separated event types; null: every type. */
    events: text("events"),
    /** The `whsec_…` secret, sealed with SMARTHOST_SECRET_KEY. */
    secret: text("secret").notNull(),
    /** After a rotation: the old secret (sealed), still signing until `previous_until`. */
    previousSecret: text("previous_secret"),
    previousUntil: integer("previous_until"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    disabledReason: text("disabled_reason"),
    /** When the current run of failures began; null while the endpoint answers. */
    failingSince: integer("failing_since"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("webhook_endpoints_account").on(t.accountId)],
);

/** One row per (event, endpoint): written in the event's transaction, sent by the delivery nodes. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    endpointId: text("endpoint_id").notNull().references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    eventId: integer("event_id").notNull(),
    state: text("state", { enum: ["pending", "delivered", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    leaseUntil: integer("lease_until").notNull().default(0),
    lastStatus: integer("last_status"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("webhook_deliveries_endpoint").on(t.endpointId, t.id),
    index("webhook_deliveries_due").on(t.nextAttemptAt).where(sql`state = 'pending'`),
  ],
);

/** Every attempt to send a webhook: what the endpoint answered and how fast. */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    deliveryId: integer("delivery_id").notNull().references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attemptedAt: integer("attempted_at").notNull(),
    /** HTTP status; null when no answer came (refused, timeout, blocked address). */
    status: integer("status"),
    latencyMs: integer("latency_ms").notNull(),
    /** The first bytes of the answer, or why there was none. */
    response: text("response"),
  },
  (t) => [index("webhook_attempts_delivery").on(t.deliveryId)],
);

/**
 * Complaints (ARF reports, RFC 5965) about mail an account sent, one per message and
 * recipient however often it is reported: the complaint rate (src/complaints/).
 */
export const complaints = sqliteTable(
  "complaints",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: text("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    messageId: text("message_id").notNull(),
    recipient: text("recipient").notNull(),
    feedbackType: text("feedback_type").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("complaints_message_recipient").on(t.messageId, t.recipient), index("complaints_account_created").on(t.accountId, t.createdAt)],
);

/**
 * `account update NAME --pause-on-complaint-rate P`: the account's new mail is refused while
 * `paused_at` is set, which happens when its complaint rate over 24 h or 7 days reaches P
 * percent; `account resume NAME` clears it.
 */
export const complaintPauses = sqliteTable("complaint_pauses", {
  accountId: text("account_id").primaryKey().references(() => accounts.id, { onDelete: "cascade" }),
  /** Percent of delivered recipients; null: never paused for complaints. */
  pauseRate: real("pause_rate"),
  pausedAt: integer("paused_at"),
  pausedReason: text("paused_reason"),
});
