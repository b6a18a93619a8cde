/**
 * What an account may send: relay permission, its sender rules (envelope and header
 * senders), recipient counts, its rate limits and quotas (counted in SQL at commit), and
 * its suppression list at RCPT, whether its mail gets one-click unsubscribe. Account rows are read at most every few seconds.
 */
import { eq } from "drizzle-orm";
import { Failure } from "../core/failure.ts";
import type { Reply } from "../core/reply.ts";
import type { Storage } from "../db/storage.ts";
import { accounts, senderRules } from "../db/schema.ts";
import { checkSenderFields } from "../policy/message-headers.ts";
import { peekRate, type Limits, type RateRefusal } from "../policy/rate-limit.ts";
import { senderAllowed } from "../policy/sender-rules.ts";
import type { Principal } from "../smtp/handler.ts";
import { recordSuppressed, splitSuppressed } from "../suppression/gate.ts";
import { suppressedReply } from "../suppression/replies.ts";
import { CachedMap } from "../util/cached.ts";
import { pauseState } from "../complaints/rate.ts";
import type { Metrics } from "./metrics.ts";

// Account settings change rarely; a change takes effect within this.
const ACCOUNT_CACHE_MS = 5_000;
// A paused account waits for an operator: clients are told to come back in an hour.
const PAUSED_RETRY_SECONDS = 3600;

export interface AccountPolicyDeps {
  storage: Storage;
  metrics: Metrics;
  now?: () => number;
  /** Recipients per message, whatever the source (SMARTHOST_MAX_RECIPIENTS). */
  maxRecipients?: number;
  /** Held over-quota messages per account before new mail is refused, where the account sets none (SMARTHOST_HOLD_BACKLOG). */
  holdBacklog?: number;
  /** > 0 on a remote database: whether an account has any suppression is reused that long. */
  readCacheMs?: number;
}

/** What the accept path needs of a message's sender checks. */
export interface SenderCheck {
  accountId: string;
  raw: Uint8Array;
  mailFrom: string | null;
  headerFrom?: string[];
}

export class AccountPolicy {
  private readonly now: () => number;
  private get db() {
    return this.deps.storage.db;
  }

  private readonly listed: CachedMap<string, boolean> | null;

  constructor(private readonly deps: AccountPolicyDeps) {
    this.now = deps.now ?? Date.now;
    this.listed = deps.readCacheMs ? new CachedMap(deps.readCacheMs, (accountId: string) => hasSuppressions(deps.storage.sql, accountId)) : null;
  }

  /** An account's name, sender patterns, limits and over-limit hold. */
  readonly accounts = new CachedMap(ACCOUNT_CACHE_MS, async (accountId: string) => {
    const rules = await this.db.select({ p: senderRules.pattern }).from(senderRules).where(eq(senderRules.accountId, accountId));
    const rows = await this.db
      .select({ name: accounts.name, perMinute: accounts.perMinute, perDay: accounts.perDay, recipientsPerDay: accounts.recipientsPerDay, overLimit: accounts.overLimit, holdBacklog: accounts.holdBacklog, listUnsubscribe: accounts.listUnsubscribe, requireAlignment: accounts.requireAlignment })
      .from(accounts)
      .where(eq(accounts.id, accountId));
    const r = rows[0];
    const limits: Limits = r ? { perMinute: r.perMinute, perDay: r.perDay, recipientsPerDay: r.recipientsPerDay } : { perMinute: null, perDay: null, recipientsPerDay: null };
    // --over-limit hold: mail over the limits waits held instead of being refused (src/shaping/over-limit.ts).
    const hold = r?.overLimit === "hold" ? { backlog: r.holdBacklog ?? this.deps.holdBacklog ?? null } : null;
    return { name: r?.name ?? null, patterns: rules.map((r) => r.p), limits, hold, listUnsubscribe: r?.listUnsubscribe === "one-click", requireAlignment: r?.requireAlignment === true };
  });
  /** An account's sender rules and limits, read at most every few seconds (counting stays in SQL). */
  private senderPatterns(accountId: string): Promise<string[]> {
    return this.accounts.get(accountId, this.now()).then((a) => a.patterns);
  }

  /** A paused account's pause, read at most every few seconds (complaints/rate.ts). */
  private readonly pauses = new CachedMap(ACCOUNT_CACHE_MS, (accountId: string) => pauseState(this.deps.storage.sql, accountId));

  /**
   * `--pause-on-complaint-rate`: while paused, new mail is refused as a temporary condition
   * (451 4.7.1 / HTTP 429): the sender keeps it and retries, nothing piles up here, and
   * `account resume` lets it through again.
   */
  private async checkNotPaused(accountId: string): Promise<void> {
    const p = await this.pauses.get(accountId, this.now());
    if (p.pausedAt === null) return;
    this.deps.metrics.rejected("account_paused");
    throw new Failure("rate-limited", `Account paused since ${new Date(p.pausedAt).toISOString()}: ${p.pausedReason ?? "complaint rate"}`, { code: "account_paused", retryAfterSeconds: PAUSED_RETRY_SECONDS });
  }

  /** At MAIL FROM: relay permission, the envelope sender's rule, and an early look at the limits. */
  async checkEnvelopeSender(principal: Principal | null, mailFrom: string | null): Promise<void> {
    if (!principal) return; // refused at RCPT: an unauthenticated client relays nothing
    await this.checkNotPaused(principal.accountId);
    await this.checkMailFrom(principal.accountId, mailFrom);
    const account = await this.accounts.get(principal.accountId, this.now());
    const early = account.hold ? null : await peekRate(this.deps.storage.sql, principal.accountId, account.limits, this.now());
    if (early) this.throwLimit(early);
  }

  checkRelay(principal: Principal | null): void {
    if (principal) return;
    this.deps.metrics.rejected("relay_denied");
    throw new Failure("relay-denied", "Relay access denied: authenticate first");
  }

  /**
   * The envelope sender must be an allowed sender of the account. The null reverse-path
   * "<>" is allowed (RFC 5321 §4.5.5; Postfix allows it to authenticated clients too): it
   * names nobody, so it cannot impersonate anyone, and bounces of such a message go nowhere.
   * This is the early answer at MAIL; submit checks it again with the headers, for every source.
   */
  private async checkMailFrom(accountId: string, mailFrom: string | null): Promise<void> {
    if (mailFrom === null || senderAllowed(await this.senderPatterns(accountId), mailFrom)) return;
    this.deps.metrics.rejected("sender_denied");
    throw new Failure("sender-denied", `Sender address <${mailFrom}> not allowed for this account`);
  }

  /**
   * Every sender the message names, whatever the source (policy/message-headers.ts); first,
   * whether the account may send at all (a complaint pause).
   */
  async checkSenders(s: SenderCheck): Promise<string[]> {
    await this.checkNotPaused(s.accountId);
    const checked = checkSenderFields(await this.senderPatterns(s.accountId), s.raw, s.mailFrom, s.headerFrom);
    if ("from" in checked) return checked.from;
    const refusal = checked.refusal;
    if (refusal.kind === "sender-denied") this.deps.metrics.rejected("sender_denied");
    throw new Failure(refusal.kind, refusal.message, refusal.code ? { code: refusal.code } : {});
  }

  /** SMARTHOST_MAX_RECIPIENTS, for every source (SMTP also stops at RCPT). */
  checkRecipientCount(n: number): void {
    const max = this.deps.maxRecipients;
    if (max !== undefined && n > max) {
      this.deps.metrics.rejected("too_many_recipients");
      throw new Failure("invalid", `Too many recipients: at most ${max} per message`, { code: "too_many_recipients" });
    }
  }

  /** At RCPT: the refusal for a recipient on the account's suppression list, or null. */
  async suppressedRecipient(accountId: string, mailFrom: string | null, address: string): Promise<Reply | null> {
    // Most accounts have an empty list: on a remote database that is known without a round trip per RCPT.
    if (this.listed && !(await this.listed.get(accountId, this.now()))) return null;
    const { suppressed } = await splitSuppressed(this.deps.storage.sql, accountId, [{ address }], this.now());
    const hit = suppressed[0];
    if (!hit) return null;
    this.deps.metrics.rejected("suppressed");
    await recordSuppressed(this.deps.storage.writer, accountId, suppressed, { messageId: null, from: mailFrom }, this.now());
    return suppressedReply(address, hit.entry);
  }

  throwLimit(r: RateRefusal): never {
    this.deps.metrics.rejected(r.window === "minute" ? "rate_limited" : "quota");
    if (r.window === "day") throw new Failure("quota", "Daily message quota reached", { retryAfterSeconds: r.retryAfterSeconds });
    if (r.window === "recipients") throw new Failure("quota", "Daily recipient quota reached", { retryAfterSeconds: r.retryAfterSeconds });
    throw new Failure("rate-limited", "Rate limit reached", { retryAfterSeconds: r.retryAfterSeconds });
  }
}

async function hasSuppressions(sql: Storage["sql"], accountId: string): Promise<boolean> {
  const rs = await sql.execute({ sql: "SELECT EXISTS (SELECT 1 FROM suppressions WHERE account_id = ?) AS listed", args: [accountId] });
  return Number(rs.rows[0]?.listed ?? 0) !== 0;
}
