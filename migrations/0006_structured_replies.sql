ALTER TABLE `events` ADD `reply` text;--> statement-breakpoint
ALTER TABLE `recipients` ADD `last_code` integer;--> statement-breakpoint
ALTER TABLE `recipients` ADD `last_enhanced` text;--> statement-breakpoint
ALTER TABLE `recipients` ADD `last_text` text;--> statement-breakpoint
ALTER TABLE `recipients` ADD `remote_mta` text;--> statement-breakpoint
ALTER TABLE `recipients` ADD `dsn_due` integer DEFAULT false NOT NULL;