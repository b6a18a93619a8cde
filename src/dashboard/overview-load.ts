/** Everything the overview's live part shows, read in parallel. */
import { listRoutes } from "../admin/route-list.ts";
import type { Storage } from "../db/storage.ts";
import { searchAllMessages } from "./message-data.ts";
import { heldOverQuota, routeEventViews } from "./shaping-data.ts";
import { accountsNearLimits, queueDepth, topDeferrals, topWaits, windowTotals } from "./overview-data.ts";
import type { OverviewData } from "./views/overview.tsx";

const HOUR = 3_600_000;
const DAY = 86_400_000;

export async function overviewData(storage: Storage, now: number): Promise<OverviewData> {
  const sql = storage.sql;
  const [hour, day, depth, deferrals, waits, routes, routeEvents, accounts, held, latest] = await Promise.all([
    windowTotals(sql, now - HOUR),
    windowTotals(sql, now - DAY),
    queueDepth(sql),
    topDeferrals(sql, now - HOUR),
    topWaits(sql, now - HOUR),
    listRoutes(storage.db, now),
    routeEventViews(sql),
    accountsNearLimits(sql, now),
    heldOverQuota(sql),
    searchAllMessages(sql, { limit: 10 }),
  ]);
  return { totals: { hour, day }, depth, deferrals, waits, routes, routeEvents, accounts, held, latest };
}
