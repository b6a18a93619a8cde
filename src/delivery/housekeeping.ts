/**
 * The queue's chores beside delivery, each at its own pace: over-quota holds released as
 * account windows reset (each second), and finished messages and expired rows purged
 * (each minute). Every failure is logged once with its cause; a chore that fails is tried
 * again at its next turn, and never stops the loop that runs it.
 */
import { errorFields, type Logger } from "../core/log.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import type { Sql } from "../db/raw.ts";
import { purgeExpired, purgeFinished } from "../queue/retention.ts";
import { releaseOverLimit } from "../shaping/over-limit.ts";

export const PURGE_EVERY_MS = 60_000;
// Over-quota holds are released as account windows reset: a look each second is enough.
export const RELEASE_EVERY_MS = 1000;

export interface HousekeepingDeps {
  writer: GroupCommit;
  sql: Sql;
  log: Logger;
  /** Delivered and bounced messages are kept this long (SMARTHOST_RETENTION); 0 keeps them. */
  retentionMs?: number;
}

export class Housekeeping {
  private nextPurge = 0;
  private nextRelease = 0;

  constructor(private readonly deps: HousekeepingDeps) {}

  /** Runs the chores whose turn has come. */
  async due(now: number): Promise<void> {
    if (now >= this.nextRelease) {
      this.nextRelease = now + RELEASE_EVERY_MS;
      await this.releaseHeld(now);
    }
    if (now >= this.nextPurge) {
      this.nextPurge = now + PURGE_EVERY_MS;
      const { writer, log, retentionMs } = this.deps;
      if (retentionMs) await purgeFinished(writer, now - retentionMs).catch((err) => log("purge_failed", { error: errorFields(err) }));
      await purgeExpired(writer, now).catch((err) => log("purge_failed", { error: errorFields(err) }));
    }
  }

  /** Over-quota holds whose account has room again become due (src/shaping/over-limit.ts). */
  async releaseHeld(now: number): Promise<void> {
    const n = await releaseOverLimit(this.deps.writer, this.deps.sql, now).catch((err) => {
      this.deps.log("release_failed", { error: errorFields(err) });
      return 0;
    });
    if (n > 0) this.deps.log("released_over_quota", { messages: n });
  }
}
