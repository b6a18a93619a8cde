CREATE TABLE `delivery_tls_counts` (
	`outcome` text NOT NULL,
	`result_type` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`outcome`, `result_type`)
);
--> statement-breakpoint
ALTER TABLE `events` ADD `tls` text;--> statement-breakpoint
ALTER TABLE `recipients` ADD `last_tls` text;