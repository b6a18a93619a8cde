CREATE TABLE `dashboard_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`token` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dashboard_sessions_expires` ON `dashboard_sessions` (`expires_at`);--> statement-breakpoint
-- Foreign keys with ON DELETE CASCADE to accounts on every table holding an account id
-- (SQLite adds them only by rebuilding the table). Applied with foreign keys off
-- (src/db/migrate.ts): dropping a parent table with them on would cascade into its children.
-- First the rows whose owner is already gone, so the rebuilt tables hold no orphan.
DELETE FROM `messages` WHERE `account_id` NOT IN (SELECT `id` FROM `accounts`);--> statement-breakpoint
DELETE FROM `recipients` WHERE `message_id` NOT IN (SELECT `id` FROM `messages`);--> statement-breakpoint
DELETE FROM `events` WHERE `message_id` NOT IN (SELECT `id` FROM `messages`);--> statement-breakpoint
DELETE FROM `smtp_credentials` WHERE `account_id` NOT IN (SELECT `id` FROM `accounts`);--> statement-breakpoint
DELETE FROM `api_keys` WHERE `account_id` NOT IN (SELECT `id` FROM `accounts`);--> statement-breakpoint
DELETE FROM `sender_rules` WHERE `account_id` NOT IN (SELECT `id` FROM `accounts`);--> statement-breakpoint
DELETE FROM `trusted_networks` WHERE `account_id` NOT IN (SELECT `id` FROM `accounts`);--> statement-breakpoint
DELETE FROM `rate_counters` WHERE `account_id` NOT IN (SELECT `id` FROM `accounts`);--> statement-breakpoint
DELETE FROM `idempotency_keys` WHERE `account_id` NOT IN (SELECT `id` FROM `accounts`);--> statement-breakpoint
DELETE FROM `suppressions` WHERE `account_id` NOT IN (SELECT `id` FROM `accounts`);--> statement-breakpoint
-- The operators' route events were kept under the account "": theirs is now a null account.
DELETE FROM `account_events` WHERE `account_id` != '' AND `account_id` NOT IN (SELECT `id` FROM `accounts`);--> statement-breakpoint
DELETE FROM `webhook_endpoints` WHERE `account_id` NOT IN (SELECT `id` FROM `accounts`);--> statement-breakpoint
DELETE FROM `webhook_deliveries` WHERE `endpoint_id` NOT IN (SELECT `id` FROM `webhook_endpoints`);--> statement-breakpoint
DELETE FROM `webhook_attempts` WHERE `delivery_id` NOT IN (SELECT `id` FROM `webhook_deliveries`);--> statement-breakpoint
CREATE TABLE `__new_api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`key_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	`last_used_at` integer,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_api_keys`("id", "account_id", "key_hash", "created_at", "revoked_at", "last_used_at") SELECT "id", "account_id", "key_hash", "created_at", "revoked_at", "last_used_at" FROM `api_keys`;--> statement-breakpoint
DROP TABLE `api_keys`;--> statement-breakpoint
ALTER TABLE `__new_api_keys` RENAME TO `api_keys`;--> statement-breakpoint
CREATE TABLE `__new_recipients` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` text NOT NULL,
	`address` text NOT NULL,
	`domain` text NOT NULL,
	`notify` text,
	`orcpt` text,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`lease_until` integer DEFAULT 0 NOT NULL,
	`lease_owner` text,
	`last_reply` text,
	`last_code` integer,
	`last_enhanced` text,
	`last_text` text,
	`remote_mta` text,
	`last_tls` text,
	`waited_ms` integer DEFAULT 0 NOT NULL,
	`hold_reason` text,
	`dsn_due` integer DEFAULT false NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_recipients`("id", "message_id", "address", "domain", "notify", "orcpt", "state", "attempts", "next_attempt_at", "lease_until", "lease_owner", "last_reply", "last_code", "last_enhanced", "last_text", "remote_mta", "last_tls", "waited_ms", "hold_reason", "dsn_due", "updated_at") SELECT "id", "message_id", "address", "domain", "notify", "orcpt", "state", "attempts", "next_attempt_at", "lease_until", "lease_owner", "last_reply", "last_code", "last_enhanced", "last_text", "remote_mta", "last_tls", "waited_ms", "hold_reason", "dsn_due", "updated_at" FROM `recipients`;--> statement-breakpoint
DROP TABLE `recipients`;--> statement-breakpoint
ALTER TABLE `__new_recipients` RENAME TO `recipients`;--> statement-breakpoint
CREATE INDEX `recipients_due` ON `recipients` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `recipients_message` ON `recipients` (`message_id`);--> statement-breakpoint
CREATE INDEX `recipients_pending` ON `recipients` (`next_attempt_at`) WHERE state IN ('queued', 'deferred');--> statement-breakpoint
CREATE INDEX `recipients_over_quota` ON `recipients` (`message_id`) WHERE hold_reason = 'over_quota';--> statement-breakpoint
CREATE TABLE `__new_sender_rules` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`pattern` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_sender_rules`("id", "account_id", "pattern") SELECT "id", "account_id", "pattern" FROM `sender_rules`;--> statement-breakpoint
DROP TABLE `sender_rules`;--> statement-breakpoint
ALTER TABLE `__new_sender_rules` RENAME TO `sender_rules`;--> statement-breakpoint
CREATE UNIQUE INDEX `sender_rules_account_pattern` ON `sender_rules` (`account_id`,`pattern`);--> statement-breakpoint
CREATE TABLE `__new_smtp_credentials` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`username` text NOT NULL,
	`password_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_smtp_credentials`("id", "account_id", "username", "password_hash", "created_at") SELECT "id", "account_id", "username", "password_hash", "created_at" FROM `smtp_credentials`;--> statement-breakpoint
DROP TABLE `smtp_credentials`;--> statement-breakpoint
ALTER TABLE `__new_smtp_credentials` RENAME TO `smtp_credentials`;--> statement-breakpoint
CREATE UNIQUE INDEX `smtp_credentials_username_unique` ON `smtp_credentials` (`username`);--> statement-breakpoint
CREATE TABLE `__new_trusted_networks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`cidr` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_trusted_networks`("id", "account_id", "cidr") SELECT "id", "account_id", "cidr" FROM `trusted_networks`;--> statement-breakpoint
DROP TABLE `trusted_networks`;--> statement-breakpoint
ALTER TABLE `__new_trusted_networks` RENAME TO `trusted_networks`;--> statement-breakpoint
CREATE UNIQUE INDEX `trusted_networks_cidr_unique` ON `trusted_networks` (`cidr`);--> statement-breakpoint
CREATE TABLE `__new_account_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text,
	`type` text NOT NULL,
	`message_id` text,
	`data` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_account_events`("id", "account_id", "type", "message_id", "data", "created_at") SELECT "id", NULLIF("account_id", ''), "type", "message_id", "data", "created_at" FROM `account_events`;--> statement-breakpoint
DROP TABLE `account_events`;--> statement-breakpoint
ALTER TABLE `__new_account_events` RENAME TO `account_events`;--> statement-breakpoint
CREATE INDEX `account_events_account` ON `account_events` (`account_id`,`id`);--> statement-breakpoint
CREATE TABLE `__new_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` text NOT NULL,
	`recipient` text,
	`type` text NOT NULL,
	`detail` text,
	`reply` text,
	`tls` text,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	FOREIGN KEY (`message_id`) REFERENCES `messages`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_events`("id", "message_id", "recipient", "type", "detail", "reply", "tls", "created_at") SELECT "id", "message_id", "recipient", "type", "detail", "reply", "tls", "created_at" FROM `events`;--> statement-breakpoint
DROP TABLE `events`;--> statement-breakpoint
ALTER TABLE `__new_events` RENAME TO `events`;--> statement-breakpoint
CREATE INDEX `events_message` ON `events` (`message_id`);--> statement-breakpoint
CREATE INDEX `events_type_time` ON `events` (`type`,`created_at`);--> statement-breakpoint
CREATE TABLE `__new_idempotency_keys` (
	`account_id` text NOT NULL,
	`key` text NOT NULL,
	`message_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `key`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_idempotency_keys`("account_id", "key", "message_id", "created_at") SELECT "account_id", "key", "message_id", "created_at" FROM `idempotency_keys`;--> statement-breakpoint
DROP TABLE `idempotency_keys`;--> statement-breakpoint
ALTER TABLE `__new_idempotency_keys` RENAME TO `idempotency_keys`;--> statement-breakpoint
CREATE INDEX `idempotency_keys_created` ON `idempotency_keys` (`created_at`);--> statement-breakpoint
CREATE TABLE `__new_messages` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`source` text NOT NULL,
	`mail_from` text NOT NULL,
	`raw` blob NOT NULL,
	`size` integer NOT NULL,
	`envid` text,
	`ret` text,
	`smtputf8` integer DEFAULT false NOT NULL,
	`idempotency_key` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_messages`("id", "account_id", "source", "mail_from", "raw", "size", "envid", "ret", "smtputf8", "idempotency_key", "created_at") SELECT "id", "account_id", "source", "mail_from", "raw", "size", "envid", "ret", "smtputf8", "idempotency_key", "created_at" FROM `messages`;--> statement-breakpoint
DROP TABLE `messages`;--> statement-breakpoint
ALTER TABLE `__new_messages` RENAME TO `messages`;--> statement-breakpoint
CREATE INDEX `messages_created` ON `messages` (`created_at`);--> statement-breakpoint
CREATE INDEX `messages_account_created` ON `messages` (`account_id`,`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `__new_rate_counters` (
	`account_id` text PRIMARY KEY NOT NULL,
	`minute_start` integer NOT NULL,
	`minute_count` integer NOT NULL,
	`day_start` integer NOT NULL,
	`day_count` integer NOT NULL,
	`day_recipients` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_rate_counters`("account_id", "minute_start", "minute_count", "day_start", "day_count", "day_recipients") SELECT "account_id", "minute_start", "minute_count", "day_start", "day_count", "day_recipients" FROM `rate_counters`;--> statement-breakpoint
DROP TABLE `rate_counters`;--> statement-breakpoint
ALTER TABLE `__new_rate_counters` RENAME TO `rate_counters`;--> statement-breakpoint
CREATE TABLE `__new_suppressions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`address` text NOT NULL,
	`reason` text NOT NULL,
	`message_id` text,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_suppressions`("id", "account_id", "address", "reason", "message_id", "created_at", "expires_at") SELECT "id", "account_id", "address", "reason", "message_id", "created_at", "expires_at" FROM `suppressions`;--> statement-breakpoint
DROP TABLE `suppressions`;--> statement-breakpoint
ALTER TABLE `__new_suppressions` RENAME TO `suppressions`;--> statement-breakpoint
CREATE UNIQUE INDEX `suppressions_account_address` ON `suppressions` (`account_id`,`address`);--> statement-breakpoint
CREATE TABLE `__new_webhook_attempts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`delivery_id` integer NOT NULL,
	`attempted_at` integer NOT NULL,
	`status` integer,
	`latency_ms` integer NOT NULL,
	`response` text,
	FOREIGN KEY (`delivery_id`) REFERENCES `webhook_deliveries`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_webhook_attempts`("id", "delivery_id", "attempted_at", "status", "latency_ms", "response") SELECT "id", "delivery_id", "attempted_at", "status", "latency_ms", "response" FROM `webhook_attempts`;--> statement-breakpoint
DROP TABLE `webhook_attempts`;--> statement-breakpoint
ALTER TABLE `__new_webhook_attempts` RENAME TO `webhook_attempts`;--> statement-breakpoint
CREATE INDEX `webhook_attempts_delivery` ON `webhook_attempts` (`delivery_id`);--> statement-breakpoint
CREATE TABLE `__new_webhook_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`endpoint_id` text NOT NULL,
	`event_id` integer NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`lease_until` integer DEFAULT 0 NOT NULL,
	`last_status` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`endpoint_id`) REFERENCES `webhook_endpoints`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_webhook_deliveries`("id", "endpoint_id", "event_id", "state", "attempts", "next_attempt_at", "lease_until", "last_status", "created_at", "updated_at") SELECT "id", "endpoint_id", "event_id", "state", "attempts", "next_attempt_at", "lease_until", "last_status", "created_at", "updated_at" FROM `webhook_deliveries`;--> statement-breakpoint
DROP TABLE `webhook_deliveries`;--> statement-breakpoint
ALTER TABLE `__new_webhook_deliveries` RENAME TO `webhook_deliveries`;--> statement-breakpoint
CREATE INDEX `webhook_deliveries_endpoint` ON `webhook_deliveries` (`endpoint_id`,`id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due` ON `webhook_deliveries` (`next_attempt_at`) WHERE state = 'pending';--> statement-breakpoint
CREATE TABLE `__new_webhook_endpoints` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`url` text NOT NULL,
	`events` text,
	`secret` text NOT NULL,
	`previous_secret` text,
	`previous_until` integer,
	`enabled` integer DEFAULT true NOT NULL,
	`disabled_reason` text,
	`failing_since` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_webhook_endpoints`("id", "account_id", "url", "events", "secret", "previous_secret", "previous_until", "enabled", "disabled_reason", "failing_since", "created_at") SELECT "id", "account_id", "url", "events", "secret", "previous_secret", "previous_until", "enabled", "disabled_reason", "failing_since", "created_at" FROM `webhook_endpoints`;--> statement-breakpoint
DROP TABLE `webhook_endpoints`;--> statement-breakpoint
ALTER TABLE `__new_webhook_endpoints` RENAME TO `webhook_endpoints`;--> statement-breakpoint
CREATE INDEX `webhook_endpoints_account` ON `webhook_endpoints` (`account_id`);