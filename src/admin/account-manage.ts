/** `account list|show|update|remove`: accounts with what they own and how much of their limits they use. */
import { and, count, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { accounts, apiKeys, messages, rateCounters, recipients, senderRules, smtpCredentials, trustedNetworks } from "../db/schema.ts";
import { accountIdByName } from "./accounts.ts";
import { PENDING_STATES } from "./queue-select.ts";
import { Failure } from "../core/failure.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const MINUTE = 60_000;
const DAY = 86_400_000;

export interface AccountRow {
  name: string;
  per_minute: number | null;
  per_day: number | null;
  recipients_per_day: number | null;
  /** Mail over the limits: refused, or held and released as the windows allow. */
  over_limit: "refuse" | "hold";
  /** With hold: the most messages held at once (null: 10 000). */
  hold_backlog: number | null;
  /** One-click unsubscribe added to its messages (RFC 8058). */
  list_unsubscribe: "one-click" | "off";
  /** Mail whose From: domain will not align for DMARC is refused, not only warned about. */
  require_alignment: boolean;
  created_at: string;
}

export async function listAccounts(db: Db): Promise<AccountRow[]> {
  const rows = await db.select().from(accounts).orderBy(accounts.name);
  return rows.map((a) => ({ name: a.name, per_minute: a.perMinute, per_day: a.perDay, recipients_per_day: a.recipientsPerDay, created_at: iso(a.createdAt)!, over_limit: a.overLimit, hold_backlog: a.holdBacklog, list_unsubscribe: a.listUnsubscribe, require_alignment: a.requireAlignment }));
}

/** Recipients still to deliver in the account's messages, with how many are queued, deferred and held. */
async function pendingCount(db: Db, accountId: string): Promise<{ messages: number; recipients: number } & Record<(typeof PENDING_STATES)[number], number>> {
  const rows = await db
    .select({ state: recipients.state, recipients: count() })
    .from(recipients)
    .innerJoin(messages, eq(messages.id, recipients.messageId))
    .where(and(eq(messages.accountId, accountId), inArray(recipients.state, [...PENDING_STATES])))
    .groupBy(recipients.state);
  const by = (state: string) => Number(rows.find((r) => r.state === state)?.recipients ?? 0);
  const [all] = await db
    .select({ messages: sql<number>`count(DISTINCT ${recipients.messageId})` })
    .from(recipients)
    .innerJoin(messages, eq(messages.id, recipients.messageId))
    .where(and(eq(messages.accountId, accountId), inArray(recipients.state, [...PENDING_STATES])));
  return { messages: Number(all?.messages ?? 0), recipients: rows.reduce((n, r) => n + Number(r.recipients), 0), queued: by("queued"), deferred: by("deferred"), held: by("held") };
}

async function owned(db: Db, accountId: string) {
  const [creds, keys, rules, nets] = await Promise.all([
    db.select({ username: smtpCredentials.username }).from(smtpCredentials).where(eq(smtpCredentials.accountId, accountId)),
    db.select({ id: apiKeys.id, revokedAt: apiKeys.revokedAt }).from(apiKeys).where(eq(apiKeys.accountId, accountId)),
    db.select({ p: senderRules.pattern }).from(senderRules).where(eq(senderRules.accountId, accountId)),
    db.select({ cidr: trustedNetworks.cidr }).from(trustedNetworks).where(eq(trustedNetworks.accountId, accountId)),
  ]);
  return {
    credentials: creds.map((c) => c.username),
    api_keys: keys.filter((k) => k.revokedAt === null).map((k) => k.id),
    senders: rules.map((r) => r.p),
    networks: nets.map((n) => n.cidr),
  };
}

/** The account, what it owns, and its use of each limit in the current window. */
export async function showAccount(db: Db, name: string, now: number) {
  const id = await accountIdByName(db, name);
  const [a] = await db.select().from(accounts).where(eq(accounts.id, id));
  const [c] = await db.select().from(rateCounters).where(eq(rateCounters.accountId, id));
  // The windows are fixed (rate-limit.ts): a counter from an older window counts as 0.
  const minuteUsed = c && c.minuteStart === now - (now % MINUTE) ? c.minuteCount : 0;
  const dayUsed = c && c.dayStart === now - (now % DAY) ? c.dayCount : 0;
  return {
    name: a!.name,
    created_at: iso(a!.createdAt),
    require_alignment: a!.requireAlignment,
    usage: {
      per_minute: { used: minuteUsed, limit: a!.perMinute },
      per_day: { used: dayUsed, limit: a!.perDay },
    },
    queued: await pendingCount(db, id),
    ...(await owned(db, id)),
  };
}

export interface LimitsUpdate {
  /** A number, null to remove the limit, undefined to leave it. */
  perMinute?: number | null;
  perDay?: number | null;
  recipientsPerDay?: number | null;
  /** What happens to mail over the limits (src/shaping/over-limit.ts). */
  overLimit?: "refuse" | "hold";
  holdBacklog?: number | null;
  /** One-click unsubscribe on the account's messages (src/gateway/list-unsubscribe.ts). */
  listUnsubscribe?: "one-click" | "off";
  /** Refuse (550 5.7.26 / 422) mail that will not align for DMARC (src/gateway/dmarc-alignment.ts). */
  requireAlignment?: boolean;
}

const FLAG_OF: Record<keyof LimitsUpdate, string> = { perMinute: "per-minute", perDay: "per-day", recipientsPerDay: "recipients-per-day", overLimit: "over-limit", holdBacklog: "hold-backlog", listUnsubscribe: "list-unsubscribe", requireAlignment: "require-alignment" };

export async function updateAccount(db: Db, name: string, u: LimitsUpdate): Promise<AccountRow> {
  const id = await accountIdByName(db, name);
  if (u.overLimit !== undefined && u.overLimit !== "refuse" && u.overLimit !== "hold") throw new Failure("invalid", "over-limit must be refuse or hold");
  if (u.listUnsubscribe !== undefined && u.listUnsubscribe !== "one-click" && u.listUnsubscribe !== "off") throw new Failure("invalid", "list-unsubscribe must be one-click or off");
  for (const [k, n] of Object.entries(u)) {
    if (k === "overLimit" || k === "listUnsubscribe" || k === "requireAlignment") continue;
    if (n !== undefined && n !== null && (!Number.isInteger(n) || n < 1)) throw new Failure("invalid", `${FLAG_OF[k as keyof LimitsUpdate]} must be a whole number of at least 1, or none`);
  }
  const set: LimitsUpdate = {};
  if (u.perMinute !== undefined) set.perMinute = u.perMinute;
  if (u.perDay !== undefined) set.perDay = u.perDay;
  if (u.recipientsPerDay !== undefined) set.recipientsPerDay = u.recipientsPerDay;
  if (u.overLimit !== undefined) set.overLimit = u.overLimit;
  if (u.holdBacklog !== undefined) set.holdBacklog = u.holdBacklog;
  if (u.listUnsubscribe !== undefined) set.listUnsubscribe = u.listUnsubscribe;
  if (u.requireAlignment !== undefined) set.requireAlignment = u.requireAlignment;
  if (Object.keys(set).length === 0) throw new Failure("invalid", "nothing to update: give per-minute, per-day, recipients-per-day, over-limit, hold-backlog, list-unsubscribe and/or require-alignment");
  await db.update(accounts).set(set).where(eq(accounts.id, id));
  return (await listAccounts(db)).find((a) => a.name === name)!;
}

export interface Removed {
  name: string;
  credentials: number;
  api_keys: number;
  senders: number;
  networks: number;
  /** Recipients taken out of the queue (only with force). */
  dropped_recipients: number;
}

/**
 * Removes the account and everything it owns. While it has mail still to deliver this is
 * refused, naming what is queued, unless `force`: then that mail goes with it.
 *
 * One statement: every table holding an account id references accounts with ON DELETE
 * CASCADE (src/db/schema.ts), so its credentials, keys, messages and their recipients,
 * suppressions, events, webhook endpoints and their pending deliveries all go in the same
 * commit, and a table added later cannot be left out. The queued-mail check is in the
 * statement too, so mail accepted after the count above is never dropped unasked.
 */
export async function removeAccount(db: Db, name: string, force: boolean): Promise<Removed> {
  const id = await accountIdByName(db, name);
  const pending = await pendingCount(db, id);
  const own = await owned(db, id);
  const refuse = () =>
    new Failure("conflict", `account "${name}" has ${pending.messages} message(s) still queued (${pending.recipients} recipient(s)); ` +
        `it also has ${own.credentials.length} credential(s), ${own.api_keys.length} API key(s), ${own.senders.length} sender rule(s), ${own.networks.length} network(s). ` +
        "Use --force to delete the queued mail and remove it");
  if (pending.recipients > 0 && !force) throw refuse();
  const gone = await db.$client.execute({
    sql: `DELETE FROM accounts WHERE id = ? AND (? OR NOT EXISTS (
            SELECT 1 FROM recipients r JOIN messages m ON m.id = r.message_id
            WHERE m.account_id = ? AND r.state IN (${PENDING_STATES.map(() => "?").join(", ")})))
          RETURNING id`,
    args: [id, force ? 1 : 0, id, ...PENDING_STATES],
  });
  if (gone.rows.length === 0) {
    // Removed meanwhile by someone else, or mail was queued after the count.
    await accountIdByName(db, name);
    throw refuse();
  }
  return { name, credentials: own.credentials.length, api_keys: own.api_keys.length, senders: own.senders.length, networks: own.networks.length, dropped_recipients: force ? pending.recipients : 0 };
}
