/**
 * The gateway's decisions, runtime-neutral: who is sending (SMTP credentials, API keys),
 * what they may send (relay, sender rules, limits), and committing what is accepted.
 * The SMTP handler, the HTTP routes and the remote-ingress routes all call this.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { SqlDatabase } from "../db/raw.ts";
import type { Db } from "../db/client.ts";
import { accounts, events, messages, recipients, senderRules, trustedNetworks } from "../db/schema.ts";
import { Cached, CachedMap } from "../util/cached.ts";
import { GroupCommit } from "../db/group-commit.ts";
import { matchNetwork } from "../policy/networks.ts";
import { apiKeyId, apiKeyMatches } from "../policy/api-keys.ts";
import { cleanRecord, finishAttempt, normalizeUser, releaseAttempt, reserveAttempt, THROTTLE, throttleKeys, type ThrottleKeys } from "../policy/auth-throttle.ts";
import { checkSenderFields, removeHeaderFields, STRIPPED_HEADERS } from "../policy/message-headers.ts";
import { verifyAgainstDummy, verifyPassword } from "../policy/passwords.ts";
import { cachedPasswordCheck } from "../policy/verified-cache.ts";
import { credentialRow } from "../policy/credential-row.ts";
import { consumeRate, peekRate, unlimited, type Limits, type RateRefusal } from "../policy/rate-limit.ts";
import { holdOverLimit } from "../shaping/over-limit.ts";
import { senderAllowed } from "../policy/sender-rules.ts";
import { enqueueMessage, type EnqueueOutcome, type NewRecipient } from "../queue/enqueue.ts";
import type { Handoff } from "../queue/handoff.ts";
import { primeMessageContext } from "../queue/message-events.ts";
import { newId } from "../smtp/ids.ts";
import type { Principal } from "../smtp/handler.ts";
import { ApiKeyRows } from "./api-key-rows.ts";
import { assertSingleFields } from "../dkim/single-fields.ts";
import type { MessageSigner } from "../dkim/signer.ts";
import { refuseTraceProblems } from "./trace-guard.ts";
import type { Metrics } from "./metrics.ts";
import { recordSuppressed, splitSuppressed } from "../suppression/gate.ts";
import { suppressedReply } from "../suppression/replies.ts";
import type { Reply } from "../core/reply.ts";
import { Failure, storageFailure } from "../core/failure.ts";

// Account settings, API keys and trusted networks change rarely; a change takes effect within this.
const ACCOUNT_CACHE_MS = 5_000;

export interface GatewayDeps {
  db: Db;
  /** The connection for the hot-path statements. */
  sql: SqlDatabase;
  maxMessageBytes: number;
  /** Recipients per message, whatever the source (SMARTHOST_MAX_RECIPIENTS). */
  maxRecipients?: number;
  metrics: Metrics;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** The password check (tests count the calls); policy/passwords.ts by default. */
  verifyPassword?: (password: string, hash: string) => Promise<boolean>;
  /** Shared writer (group commit); one is made when not given. */
  writer?: GroupCommit;
  /** Called after each new message is committed (in-process delivery looks at once). */
  onAccepted?: () => void;
  /** This process's delivery worker, handed each new message from memory (src/queue/handoff.ts). */
  handoff?: Handoff;
  /** DKIM: signs at acceptance, so what is stored is what goes out. */
  signer?: MessageSigner;
  /** Held over-quota messages per account before new mail is refused, where the account sets none (SMARTHOST_HOLD_BACKLOG). */
  holdBacklog?: number;
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
  /** HTTP: false when the account's suppression list was empty as this request's key was read (ApiCaller). */
  suppressionsListed?: boolean;
}

export interface ApiCaller {
  accountId: string;
  suppressionsListed: boolean;
}

export class Gateway {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  // Read on every connection, changed rarely: a few seconds of staleness is fine.
  private readonly networks = new Cached(ACCOUNT_CACHE_MS, () => this.db.select().from(trustedNetworks));
  private readonly accounts = new CachedMap(ACCOUNT_CACHE_MS, async (accountId: string) => {
    const rules = await this.db.select({ p: senderRules.pattern }).from(senderRules).where(eq(senderRules.accountId, accountId));
    const rows = await this.db
      .select({ name: accounts.name, perMinute: accounts.perMinute, perDay: accounts.perDay, recipientsPerDay: accounts.recipientsPerDay, overLimit: accounts.overLimit, holdBacklog: accounts.holdBacklog })
      .from(accounts)
      .where(eq(accounts.id, accountId));
    const r = rows[0];
    const limits: Limits = r ? { perMinute: r.perMinute, perDay: r.perDay, recipientsPerDay: r.recipientsPerDay } : { perMinute: null, perDay: null, recipientsPerDay: null };
    // --over-limit hold: mail over the limits waits held instead of being refused (src/shaping/over-limit.ts).
    const hold = r?.overLimit === "hold" ? { backlog: r.holdBacklog ?? this.deps.holdBacklog ?? null } : null;
    return { name: r?.name ?? null, patterns: rules.map((r) => r.p), limits, hold };
  });
  // Read per request so a revoked key is refused at once; the presented key is hashed and compared every time.
  private readonly apiKeyRows: ApiKeyRows;
  private readonly writer: GroupCommit;

  constructor(private readonly deps: GatewayDeps) {
    this.now = deps.now ?? Date.now;
    this.writer = deps.writer ?? new GroupCommit(deps.sql);
    this.apiKeyRows = new ApiKeyRows(deps.sql, () => this.db);
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

  /**
   * SMTP AUTH. The attempt is counted (per user and address, per address, per user) before
   * any hashing, so parallel guesses cannot outrun the limit; see policy/auth-throttle.ts.
   */
  async authenticateSmtp(remoteIp: string, username: string, password: string, authzid: string): Promise<Principal> {
    const keys = throttleKeys(remoteIp, username);
    const known = await this.recentlyVerified(keys, username, password, authzid);
    if (known) return known;
    let reserved = await reserveAttempt(this.db, keys, this.now());
    for (let i = 0; !reserved.ok && reserved.busy && i < THROTTLE.busyWaits; i++) {
      await this.sleep(THROTTLE.busyWaitMs);
      reserved = await reserveAttempt(this.db, keys, this.now());
    }
    if (!reserved.ok) {
      this.deps.metrics.rejected("auth_throttled");
      throw new Failure("auth-throttled", "Too many authentication failures", { retryAfterSeconds: reserved.retryAfterSeconds });
    }
    let checked: boolean | null = null;
    try {
      if (reserved.delayMs > 0) await this.sleep(reserved.delayMs);
      const principal = await this.checkCredentials(username, password, authzid);
      checked = principal !== null;
      if (!principal) {
        this.deps.metrics.rejected("auth_failed");
        throw new Failure("unauthenticated", "Authentication credentials invalid");
      }
      return principal;
    } finally {
      // A check that could not finish (storage) counts as neither success nor failure.
      await (checked === null ? releaseAttempt(this.db, keys) : finishAttempt(this.db, keys, checked, this.now()));
    }
  }

  /**
   * The same password verified against the same stored hash minutes ago (verified-cache.ts),
   * for a user and pair with no failure counted and nothing blocked: accepted without
   * reserving an attempt, so a pooled client opening many sessions at once is not held back
   * as a guesser would be. A wrong password is never known, so guessing takes the counted way.
   */
  private async recentlyVerified(keys: ThrottleKeys, username: string, password: string, authzid: string): Promise<Principal | null> {
    if (this.deps.verifyPassword) return null;
    if (authzid !== "" && normalizeUser(authzid) !== normalizeUser(username)) return null;
    if (!(await cleanRecord(this.deps.sql, keys, this.now()))) return null;
    const row = await credentialRow(this.deps.sql, username);
    if (!row || !(await this.cachedVerify.known(password, row.hash))) return null;
    return { username: row.username, accountId: row.accountId };
  }

  private async checkCredentials(username: string, password: string, authzid: string): Promise<Principal | null> {
    const row = await credentialRow(this.deps.sql, username);
    const ok = row ? await this.verify(password, row.hash) : await verifyAgainstDummy(password);
    // RFC 4616: acting as another identity is not something a relay credential may do.
    if (!ok || !row || (authzid !== "" && normalizeUser(authzid) !== normalizeUser(username))) return null;
    return { username: row.username, accountId: row.accountId };
  }

  // A client that AUTHs on every new session pays argon2id once per few minutes (verified-cache.ts).
  private readonly cachedVerify = cachedPasswordCheck(verifyPassword);

  private verify(password: string, hash: string): Promise<boolean> {
    return (this.deps.verifyPassword ?? this.cachedVerify)(password, hash);
  }

  /** A client connecting from a trusted network sends as that network's account. */
  async identifyNetwork(ip: string): Promise<Principal | null> {
    const networks = await this.networks.get(this.now());
    const hit = matchNetwork(networks, ip);
    return hit ? { username: `network ${hit.cidr}`, accountId: hit.accountId } : null;
  }

  /** HTTP `Authorization: Bearer KEY`; returns the account id. */
  async authenticateApiKey(header: string | undefined): Promise<string> {
    return (await this.apiCaller(header)).accountId;
  }

  /** The account of an HTTP `Authorization: Bearer KEY`, and whether its suppression list had any entry as the key was read. */
  async apiCaller(header: string | undefined): Promise<ApiCaller> {
    const key = /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1];
    const id = key ? apiKeyId(key) : null;
    if (!key || !id) throw new Failure("unauthenticated", "Missing or malformed API key");
    const row = await this.apiKeyRows.get(id);
    if (!row || !apiKeyMatches(key, row.keyHash)) throw new Failure("unauthenticated", "Invalid API key");
    this.apiKeyRows.used(id, this.now());
    return { accountId: row.accountId, suppressionsListed: row.suppressionsListed };
  }

  /** An account's sender rules and limits, read at most every few seconds (counting stays in SQL). */
  private senderPatterns(accountId: string): Promise<string[]> {
    return this.accounts.get(accountId, this.now()).then((a) => a.patterns);
  }

  /** At MAIL FROM: relay permission, the envelope sender's rule, and an early look at the limits. */
  async checkEnvelopeSender(principal: Principal | null, mailFrom: string | null): Promise<void> {
    if (!principal) return; // refused at RCPT: an unauthenticated client relays nothing
    await this.checkMailFrom(principal.accountId, mailFrom);
    const account = await this.accounts.get(principal.accountId, this.now());
    const early = account.hold ? null : await peekRate(this.deps.sql, principal.accountId, account.limits, this.now());
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

  /** Every sender the message names, whatever the source (policy/message-headers.ts). */
  private async checkSenders(s: Submission): Promise<string[]> {
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
    // An account with an empty list (as read with the request's key) has nothing to look up.
    if (s.source !== "http" || s.suppressionsListed === false) return { ...(await this.commit(s)), suppressed: [] };
    const { kept, suppressed } = await splitSuppressed(this.deps.sql, s.accountId, s.recipients, this.now());
    if (suppressed.length > 0 && kept.length === 0) {
      this.deps.metrics.rejected("suppressed");
      await recordSuppressed(this.writer, s.accountId, suppressed, { messageId: null, from: s.mailFrom }, this.now());
      throw new Failure("suppressed", `Every recipient is on the suppression list: ${suppressed.map((x) => x.address).join(", ")}`, { code: "all_suppressed" });
    }
    const outcome = await this.commit({ ...s, recipients: kept });
    if (!outcome.duplicate) await recordSuppressed(this.writer, s.accountId, suppressed, { messageId: outcome.id, from: s.mailFrom }, this.now());
    return { ...outcome, suppressed: suppressed.map((x) => x.address) };
  }

  private async commit(s: Submission): Promise<EnqueueOutcome> {
    if (s.raw.byteLength > this.deps.maxMessageBytes) {
      this.deps.metrics.rejected("too_large");
      throw new Failure("too-large", `Message size exceeds fixed limit of ${this.deps.maxMessageBytes} octets`);
    }
    refuseTraceProblems(s.raw, this.deps.metrics);
    if (s.recipients.length === 0) throw new Failure("invalid", "No recipients", { code: "no_recipients" });
    this.checkRecipientCount(s.recipients.length);
    // The From: addresses the sender check read, for the signer: one pass for both.
    const headerFrom = await this.checkSenders(s);
    const raw = removeHeaderFields(s.raw, STRIPPED_HEADERS);
    assertSingleFields(raw);
    const { name: accountName, limits, hold } = await this.accounts.get(s.accountId, this.now());
    if (limits.recipientsPerDay !== null && s.recipients.length > limits.recipientsPerDay) {
      throw new Failure("invalid", `Too many recipients: the account may send to at most ${limits.recipientsPerDay} per day`, { code: "too_many_recipients" });
    }
    // Signed last, over the bytes that are stored and sent: a retry never signs again.
    const signed = this.deps.signer ? await this.deps.signer.sign(raw, headerFrom) : raw;
    const now = this.now();
    const id = s.id ?? newId();
    const handoff = this.deps.handoff;
    const lease = handoff?.claim(now) ?? null;
    const outcome = await enqueueMessage(
      this.writer,
      {
        id,
        accountId: s.accountId,
        source: s.source,
        mailFrom: s.mailFrom ?? "",
        raw: signed,
        recipients: s.recipients,
        envid: s.envid,
        ret: s.ret,
        smtputf8: s.smtputf8 ?? false,
        idempotencyKey: s.idempotencyKey,
        lease,
      },
      now,
      unlimited(limits)
        ? null
        : async (tx) => {
            const rate = await consumeRate(tx, s.accountId, limits, now, s.recipients.length);
            if (rate.ok) return;
            const held = hold && (await holdOverLimit(tx, { accountId: s.accountId, messageId: id, mailFrom: s.mailFrom ?? "", recipients: s.recipients.length, backlog: hold.backlog, retryAfterSeconds: rate.retryAfterSeconds }, now));
            if (held) return "over_quota";
            this.throwLimit(rate);
          },
    ).catch((err: unknown) => {
      if (lease) handoff!.cancel();
      throw storageFailure(err);
    });
    if (outcome.leased && outcome.leased.length > 0) {
      const stored = { id, accountId: s.accountId, mailFrom: s.mailFrom ?? "", raw: signed, envid: s.envid ?? null, ret: s.ret ?? null, smtputf8: s.smtputf8 ?? false, createdAt: now };
      primeMessageContext(id, { accountId: s.accountId, account: accountName, from: stored.mailFrom, raw: signed });
      handoff!.take(stored, outcome.leased);
    } else if (lease) handoff!.cancel();
    if (!outcome.duplicate) {
      this.deps.metrics.accepted(s.source);
      // Handed off: the worker has it already, no need to look for due work.
      if (!outcome.leased) this.deps.onAccepted?.();
    }
    return { id: outcome.id, duplicate: outcome.duplicate };
  }

  private throwLimit(r: RateRefusal): never {
    this.deps.metrics.rejected(r.window === "minute" ? "rate_limited" : "quota");
    if (r.window === "day") throw new Failure("quota", "Daily message quota reached", { retryAfterSeconds: r.retryAfterSeconds });
    if (r.window === "recipients") throw new Failure("quota", "Daily recipient quota reached", { retryAfterSeconds: r.retryAfterSeconds });
    throw new Failure("rate-limited", "Rate limit reached", { retryAfterSeconds: r.retryAfterSeconds });
  }

  /** The status view of one message, for its own account only. */
  async messageStatus(accountId: string, id: string) {
    // Everything but the message bytes, which can be megabytes and are not shown.
    const rows = await this.db
      .select({ id: messages.id, source: messages.source, mailFrom: messages.mailFrom, size: messages.size, createdAt: messages.createdAt })
      .from(messages)
      .where(and(eq(messages.id, id), eq(messages.accountId, accountId)));
    const m = rows[0];
    if (!m) throw new Failure("not-found", "No such message", { code: "not_found" });
    const rcpts = await this.db.select().from(recipients).where(eq(recipients.messageId, id)).orderBy(asc(recipients.id));
    const evs = await this.db.select().from(events).where(eq(events.messageId, id)).orderBy(asc(events.id));
    const states = new Set(rcpts.map((r) => r.state));
    const status = states.size === 1 ? [...states][0]! : states.has("queued") || states.has("deferred") || states.has("held") ? "partially_delivered" : "completed";
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
        ...(r.lastCode !== null ? { reply: { code: r.lastCode, enhanced: r.lastEnhanced, text: r.lastText ?? "" } } : {}),
        ...(r.lastTls ? { tls: r.lastTls } : {}),
      })),
      events: evs.map((e) => ({ type: e.type, recipient: e.recipient, detail: e.detail, ...(e.reply ? { reply: e.reply } : {}), ...(e.tls ? { tls: e.tls } : {}), at: new Date(e.createdAt).toISOString() })),
    };
  }
}
