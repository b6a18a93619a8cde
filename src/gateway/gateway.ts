/**
 * The gateway's decisions, runtime-neutral: who is sending (SMTP credentials, API keys),
 * what they may send (relay, sender rules, limits), and committing what is accepted.
 * The SMTP handler, the HTTP routes and the remote-ingress routes all call this.
 */
import { and, asc, eq } from "drizzle-orm";
import type { SqlDatabase } from "../db/raw.ts";
import type { Db } from "../db/client.ts";
import { accounts, apiKeys, events, messages, recipients, senderRules, smtpCredentials, trustedNetworks } from "../db/schema.ts";
import { Cached, CachedMap } from "../util/cached.ts";
import { GroupCommit } from "../queue/group-commit.ts";
import { matchNetwork } from "../policy/networks.ts";
import { parseAddressList } from "../mime/addresses.ts";
import { headerValues } from "../mime/headers.ts";
import { apiKeyId, apiKeyMatches } from "../policy/api-keys.ts";
import { clearFailures, recordFailure, throttleKeys, throttleState } from "../policy/auth-throttle.ts";
import { verifyAgainstDummy, verifyPassword } from "../policy/passwords.ts";
import { consumeRate, peekRate, type Limits, type RateRefusal } from "../policy/rate-limit.ts";
import { senderAllowed } from "../policy/sender-rules.ts";
import { enqueueMessage, type EnqueueOutcome, type NewRecipient } from "../queue/enqueue.ts";
import { newId } from "../smtp/ids.ts";
import type { Principal } from "../smtp/handler.ts";
import { GatewayError } from "./errors.ts";
import type { Metrics } from "./metrics.ts";
import { recordSuppressed, splitSuppressed } from "../suppression/gate.ts";
import { suppressedReply } from "../suppression/replies.ts";
import type { Reply } from "../smtp/reply.ts";

// Account settings, API keys and trusted networks change rarely; a change takes effect within this.
const ACCOUNT_CACHE_MS = 5_000;

export interface GatewayDeps {
  db: Db;
  /** The connection for the hot-path statements. */
  sql: SqlDatabase;
  maxMessageBytes: number;
  metrics: Metrics;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Shared writer (group commit); one is made when not given. */
  writer?: GroupCommit;
  /** Called after each new message is committed (in-process delivery looks at once). */
  onAccepted?: () => void;
}

export interface Submission {
  accountId: string;
  source: "smtp" | "http";
  /** Envelope sender; null for "<>". */
  mailFrom: string | null;
  recipients: NewRecipient[];
  raw: Uint8Array;
  /** From: addresses already parsed by the caller (JSON API); otherwise read from `raw`. */
  headerFrom?: string[];
  idempotencyKey?: string;
  id?: string;
  envid?: string;
  ret?: string;
  smtputf8?: boolean;
}

export class Gateway {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  // Read on every connection, changed rarely: a few seconds of staleness is fine.
  private readonly networks = new Cached(ACCOUNT_CACHE_MS, () => this.db.select().from(trustedNetworks));
  private readonly accounts = new CachedMap(ACCOUNT_CACHE_MS, async (accountId: string) => {
    const rules = await this.db.select({ p: senderRules.pattern }).from(senderRules).where(eq(senderRules.accountId, accountId));
    const rows = await this.db.select({ perMinute: accounts.perMinute, perDay: accounts.perDay }).from(accounts).where(eq(accounts.id, accountId));
    const limits: Limits = rows[0] ?? { perMinute: null, perDay: null };
    return { patterns: rules.map((r) => r.p), limits };
  });
  // Only the stored row is cached; the presented key is hashed and compared every time.
  private readonly apiKeyRows = new CachedMap(ACCOUNT_CACHE_MS, async (id: string) => (await this.db.select().from(apiKeys).where(eq(apiKeys.id, id)))[0] ?? null);
  private readonly writer: GroupCommit;

  constructor(private readonly deps: GatewayDeps) {
    this.now = deps.now ?? Date.now;
    this.writer = deps.writer ?? new GroupCommit(deps.sql);
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  get db(): Db {
    return this.deps.db;
  }

  /** The process's writer: every write shares its group commits. */
  get writes(): GroupCommit {
    return this.writer;
  }

  /** The connection for hand-written statements (suppressions, events, webhooks). */
  get sql(): SqlDatabase {
    return this.deps.sql;
  }

  /** SMTP AUTH. Throttled per address and per user before any hashing. */
  async authenticateSmtp(remoteIp: string, username: string, password: string, authzid: string): Promise<Principal> {
    const keys = throttleKeys(remoteIp, username);
    const state = await throttleState(this.db, keys, this.now());
    if (state.blockedForSeconds > 0) {
      this.deps.metrics.rejected("auth_throttled");
      throw new GatewayError("auth-throttled", "Too many authentication failures", { retryAfterSeconds: state.blockedForSeconds });
    }
    if (state.delayMs > 0) await this.sleep(state.delayMs);
    const rows = await this.db
      .select({ hash: smtpCredentials.passwordHash, accountId: smtpCredentials.accountId })
      .from(smtpCredentials)
      .where(eq(smtpCredentials.username, username));
    const row = rows[0];
    const ok = row ? await verifyPassword(password, row.hash) : await verifyAgainstDummy(password);
    // RFC 4616: acting as another identity is not something a relay credential may do.
    if (!ok || !row || (authzid !== "" && authzid !== username)) {
      await recordFailure(this.db, keys, this.now());
      this.deps.metrics.rejected("auth_failed");
      throw new GatewayError("unauthenticated", "Authentication credentials invalid");
    }
    if (state.delayMs > 0) await clearFailures(this.db, username);
    return { username, accountId: row.accountId };
  }

  /** A client connecting from a trusted network sends as that network's account. */
  async identifyNetwork(ip: string): Promise<Principal | null> {
    const networks = await this.networks.get(this.now());
    const hit = matchNetwork(networks, ip);
    return hit ? { username: `network ${hit.cidr}`, accountId: hit.accountId } : null;
  }

  /** HTTP `Authorization: Bearer KEY`; returns the account id. */
  async authenticateApiKey(header: string | undefined): Promise<string> {
    const key = /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1];
    const id = key ? apiKeyId(key) : null;
    if (!key || !id) throw new GatewayError("unauthenticated", "Missing or malformed API key");
    const row = await this.apiKeyRows.get(id, this.now());
    if (!row || !(await apiKeyMatches(key, row.keyHash))) throw new GatewayError("unauthenticated", "Invalid API key");
    return row.accountId;
  }

  /** An account's sender rules and limits, read at most every few seconds (counting stays in SQL). */
  private senderPatterns(accountId: string): Promise<string[]> {
    return this.accounts.get(accountId, this.now()).then((a) => a.patterns);
  }

  private limits(accountId: string): Promise<Limits> {
    return this.accounts.get(accountId, this.now()).then((a) => a.limits);
  }

  /** At MAIL FROM: relay permission, the envelope sender's rule, and an early look at the limits. */
  async checkEnvelopeSender(principal: Principal | null, mailFrom: string | null): Promise<void> {
    if (!principal) return; // refused at RCPT: an unauthenticated client relays nothing
    if (mailFrom !== null && !senderAllowed(await this.senderPatterns(principal.accountId), mailFrom)) {
      this.deps.metrics.rejected("sender_denied");
      throw new GatewayError("sender-denied", `Sender address <${mailFrom}> not allowed for this account`);
    }
    const early = await peekRate(this.deps.sql, principal.accountId, await this.limits(principal.accountId), this.now());
    if (early) this.throwLimit(early);
  }

  checkRelay(principal: Principal | null): void {
    if (principal) return;
    this.deps.metrics.rejected("relay_denied");
    throw new GatewayError("relay-denied", "Relay access denied: authenticate first");
  }

  /** The From: header's addresses must all be allowed senders of the account. */
  async checkHeaderFrom(accountId: string, from: string[]): Promise<void> {
    const patterns = await this.senderPatterns(accountId);
    const denied = from.find((a) => !senderAllowed(patterns, a));
    if (denied) {
      this.deps.metrics.rejected("sender_denied");
      throw new GatewayError("sender-denied", `From: address <${denied}> not allowed for this account`);
    }
  }

  /** The addresses of the message's one From: header. */
  headerFromOf(raw: Uint8Array): string[] {
    const values = headerValues(raw, "from");
    if (values.length !== 1) throw new GatewayError("invalid", "Message must have exactly one From: header", { code: "invalid_from" });
    const list = parseAddressList(values[0]!);
    if (!list) throw new GatewayError("invalid", "From: header does not parse", { code: "invalid_from" });
    return list.map((a) => a.address);
  }

  /** At RCPT: the refusal for a recipient on the account's suppression list, or null. */
  async suppressedRecipient(accountId: string, mailFrom: string | null, address: string): Promise<Reply | null> {
    const { suppressed } = await splitSuppressed(this.deps.sql, accountId, [{ address }], this.now());
    const hit = suppressed[0];
    if (!hit) return null;
    this.deps.metrics.rejected("suppressed");
    await recordSuppressed(this.writer, accountId, suppressed, { messageId: null, from: mailFrom }, this.now());
    return suppressedReply(address, hit.entry);
  }

  /**
   * Over HTTP the suppressed recipients are left out (and listed); when none is left,
   * nothing is stored (422). Over SMTP they were already refused at RCPT.
   */
  async submit(s: Submission): Promise<EnqueueOutcome & { suppressed: string[] }> {
    if (s.source !== "http") return { ...(await this.commit(s)), suppressed: [] };
    const { kept, suppressed } = await splitSuppressed(this.deps.sql, s.accountId, s.recipients, this.now());
    if (suppressed.length > 0 && kept.length === 0) {
      this.deps.metrics.rejected("suppressed");
      await recordSuppressed(this.writer, s.accountId, suppressed, { messageId: null, from: s.mailFrom }, this.now());
      throw new GatewayError("suppressed", `Every recipient is on the suppression list: ${suppressed.map((x) => x.address).join(", ")}`, { code: "all_suppressed" });
    }
    const outcome = await this.commit({ ...s, recipients: kept });
    if (!outcome.duplicate) await recordSuppressed(this.writer, s.accountId, suppressed, { messageId: outcome.id, from: s.mailFrom }, this.now());
    return { ...outcome, suppressed: suppressed.map((x) => x.address) };
  }

  private async commit(s: Submission): Promise<EnqueueOutcome> {
    if (s.raw.byteLength > this.deps.maxMessageBytes) {
      this.deps.metrics.rejected("too_large");
      throw new GatewayError("too-large", `Message size exceeds fixed limit of ${this.deps.maxMessageBytes} octets`);
    }
    if (s.recipients.length === 0) throw new GatewayError("invalid", "No recipients", { code: "no_recipients" });
    await this.checkHeaderFrom(s.accountId, s.headerFrom ?? this.headerFromOf(s.raw));
    const limits = await this.limits(s.accountId);
    const now = this.now();
    const outcome = await enqueueMessage(
      this.writer,
      {
        id: s.id ?? newId(),
        accountId: s.accountId,
        source: s.source,
        mailFrom: s.mailFrom ?? "",
        raw: s.raw,
        recipients: s.recipients,
        envid: s.envid,
        ret: s.ret,
        smtputf8: s.smtputf8 ?? false,
        idempotencyKey: s.idempotencyKey,
      },
      now,
      limits.perMinute === null && limits.perDay === null
        ? null
        : async (sql) => {
            const rate = await consumeRate(sql, s.accountId, limits, now);
            if (!rate.ok) this.throwLimit(rate);
          },
    ).catch((err: unknown) => {
      if (err instanceof GatewayError) throw err;
      throw new GatewayError("temporary", "Could not store the message, try again later", { code: "storage" });
    });
    if (!outcome.duplicate) {
      this.deps.metrics.accepted(s.source);
      this.deps.onAccepted?.();
    }
    return outcome;
  }

  private throwLimit(r: RateRefusal): never {
    this.deps.metrics.rejected(r.window === "day" ? "quota" : "rate_limited");
    if (r.window === "day") throw new GatewayError("quota", "Daily message quota reached", { retryAfterSeconds: r.retryAfterSeconds });
    throw new GatewayError("rate-limited", "Rate limit reached", { retryAfterSeconds: r.retryAfterSeconds });
  }

  /** The status view of one message, for its own account only. */
  async messageStatus(accountId: string, id: string) {
    // Everything but the message bytes, which can be megabytes and are not shown.
    const rows = await this.db
      .select({ id: messages.id, source: messages.source, mailFrom: messages.mailFrom, size: messages.size, createdAt: messages.createdAt })
      .from(messages)
      .where(and(eq(messages.id, id), eq(messages.accountId, accountId)));
    const m = rows[0];
    if (!m) throw new GatewayError("not-found", "No such message", { code: "not_found" });
    const rcpts = await this.db.select().from(recipients).where(eq(recipients.messageId, id)).orderBy(asc(recipients.id));
    const evs = await this.db.select().from(events).where(eq(events.messageId, id)).orderBy(asc(events.id));
    const states = new Set(rcpts.map((r) => r.state));
    const status = states.size === 1 ? [...states][0]! : states.has("queued") || states.has("deferred") ? "partially_delivered" : "completed";
    return {
      id: m.id,
      status,
      source: m.source,
      mail_from: m.mailFrom,
      size: m.size,
      created_at: new Date(m.createdAt).toISOString(),
      recipients: rcpts.map((r) => ({
        address: r.address,
        state: r.state,
        attempts: r.attempts,
        next_attempt_at: r.state === "queued" || r.state === "deferred" ? new Date(r.nextAttemptAt).toISOString() : null,
        last_reply: r.lastReply,
      })),
      events: evs.map((e) => ({ type: e.type, recipient: e.recipient, detail: e.detail, at: new Date(e.createdAt).toISOString() })),
    };
  }
}
