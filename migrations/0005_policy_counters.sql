CREATE TABLE `queue_counts` (
	`state` text PRIMARY KEY NOT NULL,
	`n` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `accounts` ADD `recipients_per_day` integer;--> statement-breakpoint
ALTER TABLE `auth_failures` ADD `pending` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `rate_counters` ADD `day_recipients` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `idempotency_keys_created` ON `idempotency_keys` (`created_at`);