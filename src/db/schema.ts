/** The one schema (drizzle, SQLite dialect for libSQL). Times are Unix milliseconds. */
import { sql } from "drizzle-orm";
import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { TlsRecord } from "../delivery/tls-outcome.ts";

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
  createdAt: integer("created_at").notNull(),
});

export const smtpCredentials = sqliteTable("smtp_credentials", {
  id: text("id").primaryKey(),
  accountId: text("account_id").notNull().references(() => accounts.id),
  username: text("username").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const apiKeys = sqliteTable("api_keys", {
  /** The visible prefix of the key, also its lookup handle. */
  id: text("id").primaryKey(),
  accountId: text("account_id").notNull().references(() => accounts.id),
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
    accountId: text("account_id").notNull().references(() => accounts.id),
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
    accountId: text("account_id").notNull().references(() => accounts.id),
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

/**
 * The circuit breaker of each upstream route (key: the route's label, `smtp://host:port`),
 * shared by every delivery node (src/shaping/route-health.ts).
 */
export const routeHealth = sqliteTable("route_health", {
  route: text("route").primaryKey(),
  /** up; down until down_until; probing: one node (probe_until) tries one message. */
  state: text("state", { enum: ["up", "down", "probing"] }).notNull(),
  /** Consecutive route-scoped failures (connection, refusal of our account or rate). */
  failures: integer("failures").notNull().default(0),
  /** Consecutive trips without a recovery: the backoff doubles with each. */
  trips: integer("trips").notNull().default(0),
  downUntil: integer("down_until").notNull().default(0),
  probeUntil: integer("probe_until").notNull().default(0),
  lastReply: text("last_reply"),
  changedAt: integer("changed_at").notNull(),
});

/**
 * Route quotas in use: per second as spacing (the next message may go at next_send_at, one
 * every 1/N s), per minute and per UTC day as fixed windows (src/shaping/route-quota.ts).
 */
export const routeCounters = sqliteTable("route_counters", {
  route: text("route").primaryKey(),
  nextSendAt: integer("next_send_at").notNull(),
  minuteStart: integer("minute_start").notNull(),
  minuteCount: integer("minute_count").notNull(),
  dayStart: integer("day_start").notNull(),
  dayCount: integer("day_count").notNull(),
});

/**
 * Pacing per destination (`shape add`): a recipient domain ("gmail.com") or an MX host
 * pattern ("*.google.com"); built-in defaults for the big mailbox providers apply where
 * no row does (src/shaping/shapes.ts).
 */
export const destinationShapes = sqliteTable("destination_shapes", {
  pattern: text("pattern").primaryKey(),
  /** Concurrent deliveries to the destination from one node (null: SMARTHOST_DELIVERY_PER_DESTINATION). */
  connections: integer("connections"),
  /** Messages per minute, across all nodes (null: no pacing). */
  perMinute: integer("per_minute"),
  createdAt: integer("created_at").notNull(),
});

/**
 * The pace each shaped destination is sent at now, shared by every node: the next send
 * time (one message every 60 s / rate), and the rate itself, halved when the destination
 * says "try later" and raised again one step per delivery (src/shaping/pace.ts).
 */
export const destinationPace = sqliteTable("destination_pace", {
  destination: text("destination").primaryKey(),
  nextSendAt: integer("next_send_at").notNull(),
  /** Messages per minute now (at most the shape's per_minute). */
  rate: integer("rate").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** One row per account: both windows, so one UPSERT checks and counts both limits. */
export const rateCounters = sqliteTable("rate_counters", {
  accountId: text("account_id").primaryKey(),
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

export const messages = sqliteTable(
  "messages",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
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
    messageId: text("message_id").notNull().references(() => messages.id),
    address: text("address").notNull(),
    domain: text("domain").notNull(),
    notify: text("notify"),
    orcpt: text("orcpt"),
    /**
     * held: kept back by an operator (`queue hold`), never leased until released.
     * deleted: removed from the queue by an operator (`queue delete`), final like bounced.
     */
    state: text("state", { enum: ["queued", "deferred", "held", "delivered", "bounced", "deleted"] }).notNull(),
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
     */
    holdReason: text("hold_reason", { enum: ["over_quota"] }),
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
    accountId: text("account_id").notNull(),
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
    messageId: text("message_id").notNull(),
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

/**
 * DKIM signing keys, several selectors per signing domain. `pending` keys wait for their
 * DNS record (or an explicit activation); `retired` ones no longer sign but stay listed so
 * their DNS record is kept while mail signed with them is still in flight.
 */
export const dkimKeys = sqliteTable(
  "dkim_keys",
  {
    id: text("id").primaryKey(),
    /** Signing domain (d=), lower-case A-labels. */
    domain: text("domain").notNull(),
    selector: text("selector").notNull(),
    algorithm: text("algorithm", { enum: ["rsa", "ed25519"] }).notNull(),
    /** PKCS#8 PEM sealed with SMARTHOST_SECRET_KEY (purpose "dkim:DOMAIN:SELECTOR"). */
    privateKey: text("private_key").notNull(),
    /** The p= value published in DNS (base64). */
    publicKey: text("public_key").notNull(),
    state: text("state", { enum: ["pending", "active", "retired"] }).notNull(),
    createdAt: integer("created_at").notNull(),
    activatedAt: integer("activated_at"),
    retiredAt: integer("retired_at"),
  },
  (t) => [uniqueIndex("dkim_keys_domain_selector").on(t.domain, t.selector)],
);

/**
 * MTA-STS policies of recipient domains (RFC 8461 §5.1), cached until max_age so they
 * outlive restarts and a policy host that is down, shared by every delivery node.
 */
export const mtaStsPolicies = sqliteTable("mta_sts_policies", {
  domain: text("domain").primaryKey(),
  /** The id= of the `_mta-sts` TXT record the policy was fetched for. */
  policyId: text("policy_id").notNull(),
  mode: text("mode", { enum: ["enforce", "testing", "none"] }).notNull(),
  /** JSON array of the policy's mx patterns. */
  mx: text("mx").notNull(),
  fetchedAt: integer("fetched_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
});

/**
 * Addresses an account no longer sends to: hard bounces (recipient's fault), complaints,
 * manual entries. `address` is lower-case, or "*@domain" for a whole domain.
 */
export const suppressions = sqliteTable(
  "suppressions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: text("account_id").notNull(),
    address: text("address").notNull(),
    reason: text("reason", { enum: ["bounce", "complaint", "manual"] }).notNull(),
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
 */
export const accountEvents = sqliteTable(
  "account_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: text("account_id").notNull(),
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
    accountId: text("account_id").notNull(),
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
    endpointId: text("endpoint_id").notNull(),
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
    deliveryId: integer("delivery_id").notNull(),
    attemptedAt: integer("attempted_at").notNull(),
    /** HTTP status; null when no answer came (refused, timeout, blocked address). */
    status: integer("status"),
    latencyMs: integer("latency_ms").notNull(),
    /** The first bytes of the answer, or why there was none. */
    response: text("response"),
  },
  (t) => [index("webhook_attempts_delivery").on(t.deliveryId)],
);
