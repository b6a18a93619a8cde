/**
 * Slows and then refuses repeated AUTH failures. Three counts, kept in the database (so
 * restarts and other nodes see them):
 * - per (user, client address): refused after a few failures — the guesser is refused,
 *   the user elsewhere is not;
 * - per client address (IPv6 by /64, what one host usually holds): refused after more,
 *   since one address may carry many users (NAT);
 * - per user, over all addresses: only slowed down, never refused, so nobody can lock a
 *   user out by guessing wrong from somewhere else.
 * Each attempt is reserved by one UPSERT … RETURNING before any password hashing: failures
 * plus checks under way may never exceed a limit, so parallel guesses cannot outrun it.
 * A check that would exceed it waits for those under way (a pooled client opening many
 * sessions at once is only delayed), and is refused if they end in failures.
 */
import { sql } from "drizzle-orm";
import ipaddr from "ipaddr.js";
import type { Db } from "../db/client.ts";
import type { Sql } from "../db/raw.ts";

export const THROTTLE = {
  windowMs: 15 * 60_000,
  /** Failures per (user, address) in the window before that pair is refused. */
  blockPairAfter: 5,
  /** Failures per address in the window before it is refused: more room (NAT). */
  blockIpAfter: 20,
  blockMs: 15 * 60_000,
  /** Delay before checking, per failure already counted for the user (pair or overall). */
  delayStepMs: 400,
  maxDelayMs: 3_000,
  /** An attempt over the limit only because of checks under way waits this long, this many times. */
  busyWaitMs: 250,
  busyWaits: 12,
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

export type Reservation =
  /** The password may be checked now, after `delayMs`; `finishAttempt` must follow. */
  | { ok: true; delayMs: number }
  /** Refused: blocked for `retryAfterSeconds`, or too many checks under way (`busy`). */
  | { ok: false; busy: boolean; retryAfterSeconds: number };

// One statement for the three keys: each row's checks under way go up by one (both counts
// start again with a new window) and the row is returned.
const reserve = (keys: ThrottleKeys, now: number) => sql`
  INSERT INTO auth_failures (key, count, pending, window_start, blocked_until)
  VALUES (${keys.pair}, 0, 1, ${now}, 0), (${keys.ip}, 0, 1, ${now}, 0), (${keys.user}, 0, 1, ${now}, 0)
  ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN window_start > ${now - THROTTLE.windowMs} THEN count ELSE 0 END,
    pending = CASE WHEN window_start > ${now - THROTTLE.windowMs} THEN pending + 1 ELSE 1 END,
    window_start = CASE WHEN window_start > ${now - THROTTLE.windowMs} THEN window_start ELSE excluded.window_start END
  RETURNING key, count, pending, blocked_until`;

const limitOf = (keys: ThrottleKeys, key: string) => (key === keys.pair ? THROTTLE.blockPairAfter : key === keys.ip ? THROTTLE.blockIpAfter : Infinity);

/**
 * Reserves this attempt before its password check. Runs on the database's own connection
 * (autocommit), never inside the writer's group transaction.
 */
export async function reserveAttempt(db: Db, keys: ThrottleKeys, now: number): Promise<Reservation> {
  const rows = await db.all<{ key: string; count: number; pending: number; blocked_until: number }>(reserve(keys, now));
  let blockedUntil = 0;
  let busy = false;
  let failures = 0;
  for (const r of rows) {
    const count = Number(r.count);
    blockedUntil = Math.max(blockedUntil, Number(r.blocked_until));
    if (count + Number(r.pending) > limitOf(keys, r.key)) busy = true;
    // The address count says nothing about this user; the pair and the user counts do.
    if (r.key !== keys.ip) failures = Math.max(failures, count);
  }
  if (blockedUntil > now || busy) {
    await releaseAttempt(db, keys);
    if (blockedUntil > now) return { ok: false, busy: false, retryAfterSeconds: Math.ceil((blockedUntil - now) / 1000) };
    return { ok: false, busy: true, retryAfterSeconds: 1 };
  }
  return { ok: true, delayMs: Math.min(THROTTLE.maxDelayMs, failures * THROTTLE.delayStepMs) };
}

/**
 * True when neither the user nor the (user, address) pair has a failure counted and nothing
 * of the three is blocked: a password known good may then be taken without reserving an
 * attempt (src/gateway/gateway.ts). One read, no write.
 */
export async function cleanRecord(hot: Sql, keys: ThrottleKeys, now: number): Promise<boolean> {
  const { rows } = await hot.execute({ sql: "SELECT key, count, blocked_until FROM auth_failures WHERE key IN (?, ?, ?)", args: [keys.pair, keys.ip, keys.user] });
  return rows.every((r) => Number(r.blocked_until) <= now && (r.key === keys.ip || Number(r.count) === 0));
}

/** Gives the reservation back without counting anything (refused, or the check could not run). */
export async function releaseAttempt(db: Db, keys: ThrottleKeys): Promise<void> {
  await db.run(sql`UPDATE auth_failures SET pending = max(pending - 1, 0) WHERE key IN (${keys.pair}, ${keys.ip}, ${keys.user})`);
}

/**
 * After the check: a failure is counted on all three keys (a pair or an address reaching its
 * limit is blocked for blockMs); a success clears the user's and the pair's failures.
 */
export async function finishAttempt(db: Db, keys: ThrottleKeys, ok: boolean, now: number): Promise<void> {
  if (ok) {
    await db.run(sql`UPDATE auth_failures SET pending = max(pending - 1, 0),
      count = CASE WHEN key = ${keys.ip} THEN count ELSE 0 END
      WHERE key IN (${keys.pair}, ${keys.ip}, ${keys.user})`);
    // Rows that hold nothing any more go now rather than at the next purge.
    await db.run(sql`DELETE FROM auth_failures WHERE key IN (${keys.pair}, ${keys.ip}, ${keys.user}) AND count = 0 AND pending = 0 AND blocked_until <= ${now}`);
    return;
  }
  await db.run(sql`UPDATE auth_failures SET pending = max(pending - 1, 0), count = count + 1,
    blocked_until = CASE
      WHEN count + 1 >= (CASE WHEN key = ${keys.pair} THEN ${THROTTLE.blockPairAfter} WHEN key = ${keys.ip} THEN ${THROTTLE.blockIpAfter} END)
      THEN ${now + THROTTLE.blockMs} ELSE blocked_until END
    WHERE key IN (${keys.pair}, ${keys.ip}, ${keys.user})`);
}
