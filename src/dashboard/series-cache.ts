/**
 * The day chart without re-reading the day: a minute that ended a while ago no longer
 * changes (events are written with the time they happen), so its counts are kept here and
 * each refresh reads only the minutes since. On a relay writing a million events a day this
 * turns a ~200 ms aggregation every poll into a few ms (bench/dashboard.md). Per process;
 * another node's events land in this database too, so they are counted alike.
 */
import type { Sql } from "../db/raw.ts";
import { minuteCounts, seriesOf, type Series, type SeriesType } from "./overview-data.ts";

const MINUTE = 60_000;
/** Minutes this far back are settled (commits queued in a group, clocks a little apart). */
const SETTLE_MINUTES = 3;

export class SeriesCache {
  private settled = new Map<number, Record<SeriesType, number>>();
  /** Every minute before this one is in `settled` (from the window's start on). */
  private settledBefore: number | null = null;

  async series(sql: Sql, now: number, spanMinutes: number): Promise<Series> {
    const last = Math.floor(now / MINUTE);
    const first = last - spanMinutes + 1;
    const from = this.settledBefore !== null && this.settledBefore > first ? this.settledBefore : first;
    if (from === first) this.settled.clear();
    const fresh = await minuteCounts(sql, from);
    const settleBefore = last - SETTLE_MINUTES;
    for (const [m, row] of fresh) if (m < settleBefore) this.settled.set(m, row);
    for (const m of this.settled.keys()) if (m < first) this.settled.delete(m);
    this.settledBefore = Math.max(from, settleBefore);
    const all = new Map(this.settled);
    for (const [m, row] of fresh) all.set(m, row);
    return seriesOf(all, last, spanMinutes);
  }
}
