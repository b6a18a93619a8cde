/**
 * Slows and then refuses repeated AUTH attempts. Three counts, kept in the database (so
 * restarts and other nodes see them):
 * - per (user, client address): refused after a few failures — the guesser is refused,
 *   the user elsewhere is not;
 * - per client address (IPv6 by /64, what one host usually holds): refused after more,
 *   since one address may carry many users (NAT);
 * - per user, over all addresses: only slowed down, never refused, so nobody can lock a
 *   user out by guessing wrong from somewhere else.
 * Each attempt is reserved (counted) by one UPSERT … RETURNING before any password hashing,
 * so parallel guesses each see their own count and no more than the limit are ever checked;
 * a success gives its reservation back.
 */
import { sql } from "drizzle-orm";
import ipaddr from "ipaddr.js";
import type { Db } from "../db/client.ts";

export const THROTTLE = {
  windowMs: 15 * 60_000,
  /** Attempts per (user, address) in the window before that pair is refused. */
  blockPairAfter: 5,
  /** Attempts per address in the window before it is refused: more room (NAT). */
  blockIpAfter: 20,
  blockMs: 15 * 60_000,
  /** Delay before answering, per attempt already counted (from the second on). */
  delayStepMs: 400,
  maxDelayMs: 3_000,
};

/** The address key: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64. */
export function addressKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  let addr = ipaddr.parse(ip);
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.kind() === "ipv4") return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4).concat([0, 0, 0, 0]);
  return `${new ipaddr.IPv6(parts).toString()}/64`;
}

/** Usernames are matched without regard to case, here and in the credential lookup. */
export const normalizeUser = (username: string) => username.toLowerCase();

export interface ThrottleKeys {
  pair: string;
  ip: string;
  user: string;
}

export function throttleKeys(ip: string, username: string): ThrottleKeys {
  const user = normalizeUser(username);
  const address = addressKey(ip);
  return { pair: `pair:${user}|${address}`, ip: `ip:${address}`, user: `user:${user}` };
}

export interface Reservation {
  /** Seconds until the block lifts; 0 when this attempt may be checked. */
  blockedForSeconds: number;
  /** How long to wait before answering. */
  delayMs: number;
}

/**
 * Counts this attempt and says whether it may go on to the password check. One statement
 * for the three keys: each row's count goes up by one (or restarts with a new window) and
 * is returned; a pair or an address past its limit is blocked for blockMs. It runs on the
 * database's own connection (autocommit), never inside the writer's group transaction.
 */
export async function reserveAttempt(db: Db, keys: ThrottleKeys, now: number): Promise<Reservation> {
  const windowStart = now - THROTTLE.windowMs;
  const rows = await db.all<{ key: string; count: number; blocked_until: number }>(sql`
    INSERT INTO auth_failures (key, count, window_start, blocked_until)
    VALUES (${keys.pair}, 1, ${now}, 0), (${keys.ip}, 1, ${now}, 0), (${keys.user}, 1, ${now}, 0)
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN window_start > ${windowStart} THEN count + 1 ELSE 1 END,
      blocked_until = CASE
        WHEN blocked_until <= ${now} AND window_start > ${windowStart}
          AND count + 1 > (CASE WHEN key LIKE 'pair:%' THEN ${THROTTLE.blockPairAfter} WHEN key LIKE 'ip:%' THEN ${THROTTLE.blockIpAfter} END)
        THEN ${now + THROTTLE.blockMs} ELSE blocked_until END,
      window_start = CASE WHEN window_start > ${windowStart} THEN window_start ELSE excluded.window_start END
    RETURNING key, count, blocked_until`);
  let blockedUntil = 0;
  let earlier = 0;
  for (const r of rows) {
    blockedUntil = Math.max(blockedUntil, Number(r.blocked_until));
    // The address count says nothing about this user; the pair and the user counts do.
    if (r.key !== keys.ip) earlier = Math.max(earlier, Number(r.count) - 1);
  }
  return {
    blockedForSeconds: blockedUntil > now ? Math.ceil((blockedUntil - now) / 1000) : 0,
    delayMs: Math.min(THROTTLE.maxDelayMs, earlier * THROTTLE.delayStepMs),
  };
}

/** A success: the user's and the pair's counts start again; the address gives back this attempt. */
export async function releaseAttempt(db: Db, keys: ThrottleKeys): Promise<void> {
  await db.run(sql`DELETE FROM auth_failures WHERE key IN (${keys.pair}, ${keys.user})`);
  await db.run(sql`UPDATE auth_failures SET count = max(count - 1, 0) WHERE key = ${keys.ip}`);
}
