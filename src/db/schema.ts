/**
 * The schema (drizzle, SQLite dialect for libSQL): the core tables here, feature tables in
 * schema-deliverability.ts, schema-feedback.ts and schema-shaping.ts. Times are Unix milliseconds.
 *
 * Every table holding an `account_id` references accounts with ON DELETE CASCADE (and what
 * hangs off those rows cascades from them), so removing an account removes all it owns in
 * its one DELETE, and a new table cannot be forgotten (test/unit/db/account-cascade.test.ts).
 * libSQL enforces foreign keys on every connection (`PRAGMA foreign_keys` is on by default).
 */
import { sql } from "drizzle-orm";
import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { TlsRecord } from "../core/tls-record.ts";

export const accounts = sqliteTable("accounts", {
  id: text("id").primaryKey(),
  name: text("name").notNull().unique(),
  perMinute: integer("per_minute"),
  perDay: integer("per_day"),
  /** Recipients per UTC day, summed over the account's messages (null: no limit). */
  recipientsPerDay: integer("recipients_per_day"),
  /** Mail over the limits: refuse it (451/429), or hold it and release it as the windows allow (src/shaping/over-limit.ts). */
  overLimit: text("over_limit", { enum: ["refuse", "hold"] }).notNull().default("refuse"),
  /** With hold: the most messages held at once before new mail is refused (null: the default, 10 000). */
  holdBacklog: integer("hold_backlog"),
  /** One-click unsubscribe (RFC 8058) added to its messages; a message's own `list_unsubscribe` wins (src/gateway/list-unsubscribe.ts). */
  listUnsubscribe: text("list_unsubscribe", { enum: ["off", "one-click"] }).notNull().default("off"),
  /** Refuse mail whose From: domain will not align for DMARC (550 5.7.26 / 422) instead of warning (src/gateway/dmarc-alignment.ts). */
  requireAlignment: integer("require_alignment", { mode: "boolean" }).notNull().default(false),
  createdAt: integer("created_at").notNull(),
});

export const smtpCredentials = sqliteTable("smtp_credentials", {
  id: text("id").primaryKey(),
  accountId: text("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
  username: text("username").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const apiKeys = sqliteTable("api_keys", {
  /** The visible prefix of the key, also its lookup handle. */
  id: text("id").primaryKey(),
  accountId: text("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
  /** SHA-256 (hex) of the whole key; the key itself is never stored. */
  keyHash: text("key_hash").notNull(),
  createdAt: integer("created_at").notNull(),
  /** Set by `key revoke`: the row stays for the listing, the key is refused at once. */
  revokedAt: integer("revoked_at"),
  /** Refreshed at most once a minute per key (a write per request would cost more than it tells). */
  lastUsedAt: integer("last_used_at"),
});

export const senderRules = sqliteTable(
  "sender_rules",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: text("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    /** "user@example.com", "*@example.com" or "example.com" (lower-cased). */
    pattern: text("pattern").notNull(),
  },
  (t) => [uniqueIndex("sender_rules_account_pattern").on(t.accountId, t.pattern)],
);

/** Client networks trusted to send as an account without AUTH (Postfix's mynetworks). */
export const trustedNetworks = sqliteTable(
  "trusted_networks",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: text("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    /** Normalized CIDR, e.g. "192.0.2.0/24" or "2001:db8::/32". */
    cidr: text("cidr").notNull().unique(),
  },
);

export const routes = sqliteTable(
  "routes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** Recipient domain (lower-case) or "*". */
    domain: text("domain").notNull(),
    /** The route URL without its password (the user name stays: it is not a secret). */
    url: text("url").notNull(),
    /** The password, sealed with SMARTHOST_SECRET_KEY (src/secrets/route-passwords.ts); null without one. */
    secret: text("secret"),
    /** Failover order among the routes of one domain. */
    position: integer("position").notNull(),
    /** The provider plan's quota (null: none), counted per upstream in route_counters. */
    perSecond: integer("per_second"),
    perMinute: integer("per_minute"),
    perDay: integer("per_day"),
  },
  (t) => [uniqueIndex("routes_domain_position").on(t.domain, t.position)],
);

/** One row per account: both windows, so one UPSERT checks and counts both limits. */
export const rateCounters = sqliteTable("rate_counters", {
  accountId: text("account_id").primaryKey().references(() => accounts.id, { onDelete: "cascade" }),
  minuteStart: integer("minute_start").notNull(),
  minuteCount: integer("minute_count").notNull(),
  dayStart: integer("day_start").notNull(),
  dayCount: integer("day_count").notNull(),
  /** Recipients counted in the same day window, by the same statement. */
  dayRecipients: integer("day_recipients").notNull().default(0),
});

/**
 * AUTH failures per key ("pair:user|address", "ip:address-or-/64", "user:user"), and the
 * attempts reserved before their password check; kept across restarts and nodes, purged
 * after the window.
 */
export const authFailures = sqliteTable("auth_failures", {
  key: text("key").primaryKey(),
  /** Failures in the window. */
  count: integer("count").notNull(),
  /** Attempts whose password check is under way (reserved, not yet known to fail). */
  pending: integer("pending").notNull().default(0),
  windowStart: integer("window_start").notNull(),
  blockedUntil: integer("blocked_until").notNull().default(0),
});

/**
 * Dashboard sessions, kept server-side so logging out ends one for good (src/dashboard/session.ts).
 * `id` is the SHA-256 of the cookie's nonce (a stolen table gives no cookie); `token` a
 * fingerprint of the admin token that opened it: a changed token ends every session.
 */
export const dashboardSessions = sqliteTable(
  "dashboard_sessions",
  {
    id: text("id").primaryKey(),
    token: text("token").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("dashboard_sessions_expires").on(t.expiresAt)],
);

export const messages = sqliteTable(
  "messages",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    /** "dsn" marks a bounce the relay made itself (never bounced again). */
    source: text("source", { enum: ["smtp", "http", "dsn"] }).notNull(),
    /** Envelope sender; "" for the null reverse-path. */
    mailFrom: text("mail_from").notNull(),
    raw: blob("raw", { mode: "buffer" }).notNull(),
    size: integer("size").notNull(),
    /** DSN parameters (RFC 3461) from MAIL FROM. */
    envid: text("envid"),
    ret: text("ret"),
    smtputf8: integer("smtputf8", { mode: "boolean" }).notNull().default(false),
    idempotencyKey: text("idempotency_key"),
    createdAt: integer("created_at").notNull(),
    /** `"send_at"` of the HTTP API: held until then (queue/schedule.ts); null when sent at once. */
    sendAt: integer("send_at"),
  },
  (t) => [
    index("messages_created").on(t.createdAt),
    // GET /v1/messages: an account's messages newest first, cursor on (created_at, id).
    index("messages_account_created").on(t.accountId, t.createdAt, t.id),
  ],
);

export const recipients = sqliteTable(
  "recipients",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    messageId: text("message_id").notNull().references(() => messages.id, { onDelete: "cascade" }),
    address: text("address").notNull(),
    domain: text("domain").notNull(),
    notify: text("notify"),
    orcpt: text("orcpt"),
    /**
     * held: kept back by an operator (`queue hold`), never leased until released.
     * deleted: removed from the queue by an operator (`queue delete`), final like bounced.
     * canceled: a scheduled or queued message its sender canceled (DELETE /v1/messages/{id}).
     */
    state: text("state", { enum: ["queued", "deferred", "held", "delivered", "bounced", "deleted", "canceled"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    leaseUntil: integer("lease_until").notNull().default(0),
    /** The delivery worker holding the lease; outcomes are recorded only by the holder. */
    leaseOwner: text("lease_owner"),
    /** The last reply as one line ("550 5.1.1 …"), as shown since the first release. */
    lastReply: text("last_reply"),
    /** The same reply kept as values (RFC 5321 code, RFC 3463 enhanced code, text). */
    lastCode: integer("last_code"),
    lastEnhanced: text("last_enhanced"),
    lastText: text("last_text"),
    /** The host that gave the last reply, when one did (a DSN's Remote-MTA). */
    remoteMta: text("remote_mta"),
    /** The TLS outcome of the last attempt (delivery/tls-outcome.ts), as JSON. */
    lastTls: text("last_tls", { mode: "json" }).$type<TlsRecord>(),
    /**
     * Time this recipient spent waiting on our own pacing (route quotas, every route down):
     * not counted against the queue lifetime (delivery/worker.ts).
     */
    waitedMs: integer("waited_ms").notNull().default(0),
    /**
     * Why a held recipient waits: over_quota (its account was over its limit; released
     * automatically, src/shaping/over-limit.ts); null for an operator's `queue hold`.
     * scheduled: a queued recipient not due before its message's send_at (queue/schedule.ts).
     */
    holdReason: text("hold_reason", { enum: ["over_quota", "scheduled"] }),
    /** Bounced and not yet reported: the next DSN for the message covers it. */
    dsnDue: integer("dsn_due", { mode: "boolean" }).notNull().default(false),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("recipients_due").on(t.state, t.nextAttemptAt),
    index("recipients_message").on(t.messageId),
    // The lease walks pending recipients in due order and stops at its LIMIT.
    index("recipients_pending").on(t.nextAttemptAt).where(sql`state IN ('queued', 'deferred')`),
    // The release pass walks over-quota holds oldest message first.
    index("recipients_over_quota").on(t.messageId).where(sql`hold_reason = 'over_quota'`),
  ],
);

/** Idempotency keys, one space per account across HTTP and SMTP. */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    accountId: text("account_id").notNull().references(() => accounts.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    messageId: text("message_id").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  // created_at: expired keys are purged in created_at order.
  (t) => [primaryKey({ columns: [t.accountId, t.key] }), index("idempotency_keys_created").on(t.createdAt)],
);

/**
 * Recipients per state, kept by triggers on recipients (src/queue/queue-counts.ts) so every
 * writer on every node keeps it exact and /metrics reads four rows instead of counting.
 */
export const queueCounts = sqliteTable("queue_counts", {
  state: text("state").primaryKey(),
  n: integer("n").notNull(),
});

/**
 * Delivery attempts by TLS outcome and RFC 8460 result type ("" for none), counted in the
 * transaction that records them: the source of smarthost_delivery_tls_total, shared by
 * every node and kept across restarts.
 */
export const deliveryTlsCounts = sqliteTable(
  "delivery_tls_counts",
  {
    outcome: text("outcome").notNull(),
    resultType: text("result_type").notNull(),
    n: integer("n").notNull(),
  },
  (t) => [primaryKey({ columns: [t.outcome, t.resultType] })],
);

export const events = sqliteTable(
  "events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    messageId: text("message_id").notNull().references(() => messages.id, { onDelete: "cascade" }),
    recipient: text("recipient"),
    type: text("type", { enum: ["accepted", "delivered", "deferred", "bounced", "held", "released", "retried", "deleted"] }).notNull(),
    detail: text("detail"),
    /** The reply behind a delivered/deferred/bounced event, as values. */
    reply: text("reply", { mode: "json" }).$type<{ code: number; enhanced: string | null; text: string }>(),
    /** The attempt's TLS outcome (delivery/tls-outcome.ts), as JSON. */
    tls: text("tls", { mode: "json" }).$type<TlsRecord>(),
    createdAt: integer("created_at").notNull().default(sql`(unixepoch() * 1000)`),
  },
  // events_type_time: the dashboard's per-minute counts and deferral reasons seek each type's
  // time range (covering for the counts, already grouped by type), never the whole table.
  (t) => [index("events_message").on(t.messageId), index("events_type_time").on(t.type, t.createdAt)],
);
