ALTER TABLE `api_keys` ADD `revoked_at` integer;--> statement-breakpoint
ALTER TABLE `api_keys` ADD `last_used_at` integer;