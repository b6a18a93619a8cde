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
