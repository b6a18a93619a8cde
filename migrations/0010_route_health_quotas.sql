CREATE TABLE `route_counters` (
	`route` text PRIMARY KEY NOT NULL,
	`next_send_at` integer NOT NULL,
	`minute_start` integer NOT NULL,
	`minute_count` integer NOT NULL,
	`day_start` integer NOT NULL,
	`day_count` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `route_health` (
	`route` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL,
	`trips` integer DEFAULT 0 NOT NULL,
	`down_until` integer DEFAULT 0 NOT NULL,
	`probe_until` integer DEFAULT 0 NOT NULL,
	`last_reply` text,
	`changed_at` integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE `recipients` ADD `waited_ms` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `routes` ADD `per_second` integer;--> statement-breakpoint
ALTER TABLE `routes` ADD `per_minute` integer;--> statement-breakpoint
ALTER TABLE `routes` ADD `per_day` integer;