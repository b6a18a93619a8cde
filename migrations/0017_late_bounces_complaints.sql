CREATE TABLE `return_paths` (
	`domain` text PRIMARY KEY NOT NULL,
	`return_domain` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `complaint_pauses` (
	`account_id` text PRIMARY KEY NOT NULL,
	`pause_rate` real,
	`paused_at` integer,
	`paused_reason` text,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `complaints` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`message_id` text NOT NULL,
	`recipient` text NOT NULL,
	`feedback_type` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `complaints_message_recipient` ON `complaints` (`message_id`,`recipient`);--> statement-breakpoint
CREATE INDEX `complaints_account_created` ON `complaints` (`account_id`,`created_at`);
