/**
 * A cache of recently verified credentials, so a client that opens a new session per
 * message (and AUTHs on each) pays argon2id once per few minutes, not once per message —
 * argon2id is built to cost ~30 ms of CPU on Bun and more on Workers.
 *
 * It never holds a password: an entry is an HMAC-SHA256, under a key made at random in
 * this process and never exported, of the stored hash and the password together. Only
 * successes are kept, so guessing is as slow as ever; a changed password changes the stored
 * hash and so misses; entries expire after a few minutes.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToBase64 } from "../util/bytes.ts";

export type PasswordCheck = (password: string, encoded: string) => Promise<boolean>;

export interface CachedPasswordCheck extends PasswordCheck {
  size(): number;
  /** True when this very password was verified against `encoded` within the TTL; never hashes. */
  known(password: string, encoded: string): Promise<boolean>;
}

export interface VerifiedCacheOptions {
  ttlMs?: number;
  /** At most this many entries; the oldest go first. */
  max?: number;
  now?: () => number;
}

const TTL_MS = 5 * 60_000;
const MAX = 10_000;

export function cachedPasswordCheck(check: PasswordCheck, opts: VerifiedCacheOptions = {}): CachedPasswordCheck {
  const ttl = opts.ttlMs ?? TTL_MS;
  const max = opts.max ?? MAX;
  const now = opts.now ?? Date.now;
  // HMAC in plain JavaScript: a few µs, where WebCrypto's asynchronous sign costs ~100 µs
  // per call on Bun (measured under the STARTTLS+AUTH bench), on every AUTH.
  const key = crypto.getRandomValues(new Uint8Array(32));
  const verified = new Map<string, number>();
  const enc = new TextEncoder();

  // The stored hash first, then the password: a NUL cannot occur in a PHC string.
  const tag = async (password: string, encoded: string): Promise<string> => bytesToBase64(hmac(sha256, key, enc.encode(`${encoded}\0${password}`)));

  const fresh = (t: string): boolean => {
    const until = verified.get(t);
    if (until !== undefined && until > now()) return true;
    verified.delete(t);
    return false;
  };

  const fn = async (password: string, encoded: string): Promise<boolean> => {
    const t = await tag(password, encoded);
    if (fresh(t)) return true;
    const ok = await check(password, encoded);
    if (ok) {
      if (verified.size >= max) verified.delete(verified.keys().next().value!);
      verified.set(t, now() + ttl);
    }
    return ok;
  };
  return Object.assign(fn, { size: () => verified.size, known: async (password: string, encoded: string) => fresh(await tag(password, encoded)) });
}
