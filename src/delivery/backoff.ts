/** When to try a deferred recipient again: exponential from the base, capped. */
export function nextAttemptAt(now: number, attemptsSoFar: number, baseMs: number, maxMs: number): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.min(attemptsSoFar, 30));
  return now + Math.max(baseMs, delay);
}

/** Four hours, or the base when that is longer (as Postfix's maximal_backoff_time). */
export const maxBackoffMs = (baseMs: number) => Math.max(baseMs, 4 * 3600_000);
