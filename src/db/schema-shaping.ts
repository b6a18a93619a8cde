/** Tables of traffic shaping: route circuit breakers and quotas, per-destination shapes and pace, shared by every node. */
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The circuit breaker of each upstream route (key: the route's label, `smtp://host:port`),
 * shared by every delivery node (src/shaping/route-health.ts).
 */
export const routeHealth = sqliteTable("route_health", {
  route: text("route").primaryKey(),
  /** up; down until down_until; probing: one node (probe_until) tries one message. */
  state: text("state", { enum: ["up", "down", "probing"] }).notNull(),
  /** Consecutive route-scoped failures (connection, refusal of our account or rate). */
  failures: integer("failures").notNull().default(0),
  /** Consecutive trips without a recovery: the backoff doubles with each. */
  trips: integer("trips").notNull().default(0),
  downUntil: integer("down_until").notNull().default(0),
  probeUntil: integer("probe_until").notNull().default(0),
  lastReply: text("last_reply"),
  changedAt: integer("changed_at").notNull(),
});

/**
 * Route quotas in use: per second as spacing (the next message may go at next_send_at, one
 * every 1/N s), per minute and per UTC day as fixed windows (src/shaping/route-quota.ts).
 */
export const routeCounters = sqliteTable("route_counters", {
  route: text("route").primaryKey(),
  nextSendAt: integer("next_send_at").notNull(),
  minuteStart: integer("minute_start").notNull(),
  minuteCount: integer("minute_count").notNull(),
  dayStart: integer("day_start").notNull(),
  dayCount: integer("day_count").notNull(),
});

/**
 * Pacing per destination (`shape add`): a recipient domain ("gmail.com") or an MX host
 * pattern ("*.google.com"); built-in defaults for the big mailbox providers apply where
 * no row does (src/shaping/shapes.ts).
 */
export const destinationShapes = sqliteTable("destination_shapes", {
  pattern: text("pattern").primaryKey(),
  /** Concurrent deliveries to the destination from one node (null: SMARTHOST_DELIVERY_PER_DESTINATION). */
  connections: integer("connections"),
  /** Messages per minute, across all nodes (null: no pacing). */
  perMinute: integer("per_minute"),
  createdAt: integer("created_at").notNull(),
});

/**
 * The pace each shaped destination is sent at now, shared by every node: the next send
 * time (one message every 60 s / rate), and the rate itself, halved when the destination
 * says "try later" and raised again one step per delivery (src/shaping/pace.ts).
 */
export const destinationPace = sqliteTable("destination_pace", {
  destination: text("destination").primaryKey(),
  nextSendAt: integer("next_send_at").notNull(),
  /** Messages per minute now (at most the shape's per_minute). */
  rate: integer("rate").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
