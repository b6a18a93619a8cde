/** When a failed webhook is tried again (Standard Webhooks' suggested schedule), and Retry-After. */

/** After the 1st, 2nd, … failed attempt; after the last one the delivery has failed for good. */
export const DEFAULT_RETRY_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];

/** An endpoint that has failed without a success for this long is disabled. */
export const DISABLE_AFTER_MS = 3 * 86_400_000;

const MAX_RETRY_AFTER_MS = 86_400_000;

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | null {
  if (!header) return null;
  const s = header.trim();
  if (/^\d+$/.test(s)) return Math.min(Number(s) * 1000, MAX_RETRY_AFTER_MS);
  // Neither delay-seconds nor a date: "-5" would otherwise parse as a year and mean "now".
  if (!/[a-z]/i.test(s)) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) ? Math.min(Math.max(t - now, 0), MAX_RETRY_AFTER_MS) : null;
}

/** The next attempt's time after failed attempt number `attempts` (1-based), or null when none is left. */
export function nextAttemptAt(now: number, attempts: number, scheduleSeconds: readonly number[], retryAfter: number | null): number | null {
  const wait = scheduleSeconds[attempts - 1];
  if (wait === undefined) return null;
  return now + (retryAfter ?? wait * 1000);
}
