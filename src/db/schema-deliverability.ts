/** Tables of deliverability: DKIM signing keys, cached MTA-STS policies of recipient domains, TLS reports sent to them. */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

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
 * TLS reports (RFC 8460), one row per recipient domain and UTC day, whichever node makes
 * it: the unique (domain, day) is claimed in one statement (src/tlsrpt/claim.ts). `claimed`
 * rows are being built by `owner` until `lease_until` (then another node may take them
 * over); `built` rows hold the report as sent; `no-record` marks a domain that published
 * no TLS-RPT record that day, so it is not looked up again.
 */
export const tlsrptReports = sqliteTable(
  "tlsrpt_reports",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    domain: text("domain").notNull(),
    /** The UTC day reported, YYYY-MM-DD. */
    day: text("day").notNull(),
    state: text("state", { enum: ["claimed", "built", "no-record"] }).notNull(),
    owner: text("owner"),
    leaseUntil: integer("lease_until").notNull().default(0),
    /** The report-id, also in the mail's Subject. */
    reportId: text("report_id"),
    /** The report's JSON exactly as sent (before gzip). */
    report: text("report"),
    /** The TXT record it was sent for. */
    record: text("record"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("tlsrpt_reports_domain_day").on(t.domain, t.day), index("tlsrpt_reports_day").on(t.day)],
);

/**
 * Where each report goes: one row per rua URI. `mailto:` is queued as a message (state
 * `queued`, its fate is the message's: message_id); `https:` is POSTed by the sender,
 * retried with backoff until `sent` or `failed`, every answer kept.
 */
export const tlsrptDeliveries = sqliteTable(
  "tlsrpt_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    reportRow: integer("report_row").notNull().references(() => tlsrptReports.id, { onDelete: "cascade" }),
    uri: text("uri").notNull(),
    state: text("state", { enum: ["pending", "queued", "sent", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    leaseUntil: integer("lease_until").notNull().default(0),
    messageId: text("message_id"),
    /** The last HTTP status, when one came back. */
    status: integer("status"),
    /** The last answer (the start of the body, or the error), for `tlsrpt list`. */
    answer: text("answer"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("tlsrpt_deliveries_due").on(t.state, t.nextAttemptAt), index("tlsrpt_deliveries_report").on(t.reportRow)],
);

/**
 * Return-path domains (VERP): mail whose MAIL FROM or From: domain is `domain` leaves with
 * the envelope sender `b-<token>@return_domain`, whose MX points at the inbound listener,
 * so a late DSN names the message and recipient it is about (src/return-path/).
 */
export const returnPaths = sqliteTable("return_paths", {
  /** The sender domain, lower-case. */
  domain: text("domain").primaryKey(),
  returnDomain: text("return_domain").notNull(),
  createdAt: integer("created_at").notNull(),
});
