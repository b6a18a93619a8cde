/**
 * Slows and then refuses repeated AUTH failures, per client address and per username.
 * Counted in the database (so restarts and other nodes see them) and checked before any
 * password hashing, so a flood of guesses costs the server little.
 */
import { inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { authFailures } from "../db/schema.ts";

export const THROTTLE = {
  windowMs: 15 * 60_000,
  /** Failures in the window before a username is refused outright. */
  blockUserAfter: 5,
  /** An address may carry many users (NAT), so it gets more room before it is refused. */
  blockIpAfter: 20,
  blockMs: 15 * 60_000,
  /** Delay before answering, per failure already counted (from the second on). */
  delayStepMs: 400,
  maxDelayMs: 3_000,
};

export const throttleKeys = (ip: string, username: string): string[] => [`ip:${ip}`, `user:${username.toLowerCase()}`];

export interface ThrottleState {
  /** Seconds until the block lifts; 0 when not blocked. */
  blockedForSeconds: number;
  /** How long to wait before answering. */
  delayMs: number;
}

export async function throttleState(db: Db, keys: string[], now: number): Promise<ThrottleState> {
  const rows = await db.select().from(authFailures).where(inArray(authFailures.key, keys));
  let blockedUntil = 0;
  let failures = 0;
  for (const r of rows) {
    blockedUntil = Math.max(blockedUntil, r.blockedUntil);
    if (r.windowStart > now - THROTTLE.windowMs) failures = Math.max(failures, r.count);
  }
  return {
    blockedForSeconds: blockedUntil > now ? Math.ceil((blockedUntil - now) / 1000) : 0,
    delayMs: failures >= 1 ? Math.min(THROTTLE.maxDelayMs, failures * THROTTLE.delayStepMs) : 0,
  };
}

export async function recordFailure(db: Db, keys: string[], now: number): Promise<void> {
  const windowStart = now - THROTTLE.windowMs;
  for (const key of keys) {
    const blockAfter = key.startsWith("ip:") ? THROTTLE.blockIpAfter : THROTTLE.blockUserAfter;
    await db.run(sql`
      INSERT INTO auth_failures (key, count, window_start, blocked_until) VALUES (${key}, 1, ${now}, 0)
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN window_start > ${windowStart} THEN count + 1 ELSE 1 END,
        blocked_until = CASE
          WHEN window_start > ${windowStart} AND count + 1 >= ${blockAfter} THEN ${now + THROTTLE.blockMs}
          ELSE blocked_until END,
        window_start = CASE WHEN window_start > ${windowStart} THEN window_start ELSE ${now} END`);
  }
}

export async function clearFailures(db: Db, username: string): Promise<void> {
  await db.delete(authFailures).where(inArray(authFailures.key, [`user:${username.toLowerCase()}`]));
}
