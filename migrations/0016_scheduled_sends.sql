-- Scheduled sends ("send_at" on the HTTP API): when the message is due. Its recipients wait
-- queued with hold_reason 'scheduled' and next_attempt_at at that time (src/queue/schedule.ts).
-- The recipient state 'canceled' needs no change: states are plain text.
ALTER TABLE `messages` ADD `send_at` integer;
