CREATE TABLE `tlsrpt_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`report_row` integer NOT NULL,
	`uri` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`lease_until` integer DEFAULT 0 NOT NULL,
	`message_id` text,
	`status` integer,
	`answer` text,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`report_row`) REFERENCES `tlsrpt_reports`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `tlsrpt_deliveries_due` ON `tlsrpt_deliveries` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `tlsrpt_deliveries_report` ON `tlsrpt_deliveries` (`report_row`);--> statement-breakpoint
CREATE TABLE `tlsrpt_reports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`domain` text NOT NULL,
	`day` text NOT NULL,
	`state` text NOT NULL,
	`owner` text,
	`lease_until` integer DEFAULT 0 NOT NULL,
	`report_id` text,
	`report` text,
	`record` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `tlsrpt_reports_domain_day` ON `tlsrpt_reports` (`domain`,`day`);--> statement-breakpoint
CREATE INDEX `tlsrpt_reports_day` ON `tlsrpt_reports` (`day`);