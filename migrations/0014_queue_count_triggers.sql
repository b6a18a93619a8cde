-- Recipients per state, kept in queue_counts by triggers on recipients: every insert, state
-- change and delete counts in the writer's own transaction, whichever node makes it.
-- Until this migration the triggers were installed by code at every open; a rebuilt
-- recipients table (0013) dropped them. Counted afresh here, in the same batch as the
-- triggers, so no recipient slips in between. A later migration that rebuilds recipients
-- must create these triggers again.
DELETE FROM queue_counts;
--> statement-breakpoint
INSERT INTO queue_counts (state, n) SELECT state, count(*) FROM recipients GROUP BY state;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS queue_counts_insert AFTER INSERT ON recipients BEGIN
  INSERT INTO queue_counts (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + excluded.n;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS queue_counts_update AFTER UPDATE OF state ON recipients WHEN OLD.state IS NOT NEW.state BEGIN
  INSERT INTO queue_counts (state, n) VALUES (OLD.state, -1) ON CONFLICT (state) DO UPDATE SET n = n + excluded.n;
  INSERT INTO queue_counts (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + excluded.n;
END;
--> statement-breakpoint
CREATE TRIGGER IF NOT EXISTS queue_counts_delete AFTER DELETE ON recipients BEGIN
  INSERT INTO queue_counts (state, n) VALUES (OLD.state, -1) ON CONFLICT (state) DO UPDATE SET n = n + excluded.n;
END;
