/** The complaint rate and pause of an account: `account show`, `account update --pause-on-complaint-rate`, `account resume`. */
import type { Db } from "../db/client.ts";
import { complaintRates, pauseState, resumeAccount, setPauseRate } from "../complaints/rate.ts";
import { accountIdByName } from "./accounts.ts";
import { Failure } from "../core/failure.ts";

/** "0.3" → 0.3; "none" or "off" → null (never pause). */
export function pauseRateValue(s: string): number | null {
  if (s === "none" || s === "off") return null;
  const n = Number(s);
  if (!/^\d+(\.\d+)?$/.test(s) || !(n > 0 && n <= 100)) throw new Failure("invalid", "pause-on-complaint-rate must be a percentage above 0 and at most 100 (0.3 for 0.3 %), or none");
  return n;
}

export async function complaintSummary(db: Db, accountId: string, now: number) {
  const [rates, pause] = await Promise.all([complaintRates(db.$client, accountId, now), pauseState(db.$client, accountId)]);
  return {
    rate_24h: rates["24h"],
    rate_7d: rates["7d"],
    pause_on_complaint_rate: pause.pauseRate,
    paused_at: pause.pausedAt === null ? null : new Date(pause.pausedAt).toISOString(),
    paused_reason: pause.pausedReason,
  };
}

export async function setComplaintPause(db: Db, name: string, percent: number | null): Promise<void> {
  await setPauseRate(db.$client, await accountIdByName(db, name), percent);
}

/** Lifts a complaint pause; a Failure when the account is not paused. */
export async function resumeAccountByName(db: Db, name: string): Promise<void> {
  if (!(await resumeAccount(db.$client, await accountIdByName(db, name)))) throw new Failure("conflict", `account "${name}" is not paused`);
}
