ALTER TABLE `accounts` ADD `over_limit` text DEFAULT 'refuse' NOT NULL;--> statement-breakpoint
ALTER TABLE `accounts` ADD `hold_backlog` integer;--> statement-breakpoint
ALTER TABLE `recipients` ADD `hold_reason` text;--> statement-breakpoint
CREATE INDEX `recipients_over_quota` ON `recipients` (`message_id`) WHERE hold_reason = 'over_quota';