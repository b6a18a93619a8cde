CREATE TABLE `destination_pace` (
	`destination` text PRIMARY KEY NOT NULL,
	`next_send_at` integer NOT NULL,
	`rate` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `destination_shapes` (
	`pattern` text PRIMARY KEY NOT NULL,
	`connections` integer,
	`per_minute` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
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
ALTER TABLE `accounts` ADD `over_limit` text DEFAULT 'refuse' NOT NULL;--> statement-breakpoint
ALTER TABLE `accounts` ADD `hold_backlog` integer;--> statement-breakpoint
ALTER TABLE `recipients` ADD `waited_ms` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `recipients` ADD `hold_reason` text;--> statement-breakpoint
CREATE INDEX `recipients_over_quota` ON `recipients` (`message_id`) WHERE hold_reason = 'over_quota';--> statement-breakpoint
ALTER TABLE `routes` ADD `per_second` integer;--> statement-breakpoint
ALTER TABLE `routes` ADD `per_minute` integer;--> statement-breakpoint
ALTER TABLE `routes` ADD `per_day` integer;