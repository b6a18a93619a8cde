/**
 * Accepting a message, from any source (SMTP, the JSON and raw HTTP routes, an ingress
 * node's handoff): the checks that need the whole message, DKIM signing, and the commit
 * with the rate count in the same transaction. Who is sending is authenticate.ts's job,
 * what an account may send account-policy.ts's; both are reached through this object's
 * `auth` and `policy`, built here from the same storage.
 */
import { asFailure, Failure, storageFailure } from "../core/failure.ts";
import type { Storage } from "../db/storage.ts";
import { GroupCommit } from "../db/group-commit.ts";
import { SharedCommit, type Writer } from "../db/shared-commit.ts";
import type { MessageSigner } from "../dkim/signer.ts";
import { assertSingleFields } from "../dkim/single-fields.ts";
import { removeHeaderFields, STRIPPED_HEADERS } from "../policy/message-headers.ts";
import { unlimited } from "../policy/rate-limit.ts";
import { enqueueMessage, type EnqueueOutcome, type NewRecipient } from "../queue/enqueue.ts";
import type { Handoff } from "../queue/handoff.ts";
import { primeMessageContext } from "../queue/message-events.ts";
import { holdOverLimit } from "../shaping/over-limit.ts";
import { newId } from "../smtp/ids.ts";
import { recordSuppressed, splitSuppressed } from "../suppression/gate.ts";
import { AccountPolicy } from "./account-policy.ts";
import { Authenticator } from "./authenticate.ts";
import type { Metrics } from "./metrics.ts";
import { refuseTraceProblems } from "./trace-guard.ts";
import { createAlignmentCheck, type AlignmentCheck } from "./dmarc-alignment.ts";
import type { SpfVerdicts } from "../domain-check/spf-verdict.ts";
import { logWarnings, withListUnsubscribe, type AcceptWarning, type UnsubscribeLinks } from "./list-unsubscribe.ts";
import { withSubmissionFields } from "../mime/submission-fields.ts";
import type { Logger } from "../core/log.ts";
import type { Db } from "../db/client.ts";
import type { SqlDatabase } from "../db/raw.ts";

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
  /** One-click unsubscribe links (SMARTHOST_PUBLIC_URL and the secret key); absent: none are added. */
  unsubscribe?: UnsubscribeLinks;
  /** Where accepted messages' warnings are logged. */
  log?: Logger;
  /** SPF of envelope domains for DMARC alignment (needs DNS); absent: alignment is judged by DKIM alone. */
  spf?: SpfVerdicts;
  /** > 0 on a remote database: rows read per session or request are reused that long (db/client.ts REMOTE_READ_CACHE_MS). */
  readCacheMs?: number;
  /** SMARTHOST_UPSTREAM, for the route of recipients' domains without one ("mx" when not given). */
  upstream?: string;
  /** The relay's name (SMARTHOST_HOSTNAME or the machine's): the domain of the Message-IDs it adds. */
  hostname?: string;
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
  /** HTTP `list_unsubscribe`: overrides the account's setting for this message. */
  listUnsubscribe?: boolean;
  /** Not delivered before this time (ms; already checked: queue/schedule.ts parseSendAt). */
  sendAt?: number;
}

/** What the sender is told besides the id: warnings (gateway/list-unsubscribe.ts). */
export type Accepted = EnqueueOutcome & { warnings: AcceptWarning[] };

export class Gateway {
  private readonly now: () => number;
  /** The storage this gateway writes to, for the routes and pages composed beside it. */
  readonly storage: Storage;
  readonly auth: Authenticator;
  readonly policy: AccountPolicy;
  private readonly alignment: AlignmentCheck;

  constructor(private readonly deps: GatewayDeps) {
    this.now = deps.now ?? Date.now;
    this.storage = { db: deps.db, sql: deps.sql, writer: deps.writer ?? new GroupCommit(deps.sql) };
    this.auth = new Authenticator({ db: deps.db, sql: deps.sql, metrics: deps.metrics, now: deps.now, sleep: deps.sleep, verifyPassword: deps.verifyPassword, readCacheMs: deps.readCacheMs });
    this.alignment = createAlignmentCheck({ db: deps.db, signer: deps.signer, spf: deps.spf, upstream: deps.upstream ?? "mx", now: this.now, log: deps.log });
    this.policy = new AccountPolicy({ storage: this.storage, metrics: deps.metrics, now: deps.now, maxRecipients: deps.maxRecipients, holdBacklog: deps.holdBacklog, readCacheMs: deps.readCacheMs });
  }

  /**
   * Over HTTP the suppressed recipients are left out (and listed); when none is left,
   * nothing is stored (422). Over SMTP they were already refused at RCPT.
   */
  async submit(s: Submission, writer: Writer = this.storage.writer): Promise<Accepted & { suppressed: string[] }> {
    // An account with an empty list (as read with the request's key) has nothing to look up.
    if (s.source !== "http" || s.suppressionsListed === false) return { ...(await this.commit(s, writer)), suppressed: [] };
    const { kept, suppressed } = await splitSuppressed(this.storage.sql, s.accountId, s.recipients, this.now());
    if (suppressed.length > 0 && kept.length === 0) {
      this.deps.metrics.rejected("suppressed");
      await recordSuppressed(this.storage.writer, s.accountId, suppressed, { messageId: null, from: s.mailFrom }, this.now());
      throw new Failure("suppressed", `Every recipient is on the suppression list: ${suppressed.map((x) => x.address).join(", ")}`, { code: "all_suppressed" });
    }
    const outcome = await this.commit({ ...s, recipients: kept }, writer);
    if (!outcome.duplicate) await recordSuppressed(this.storage.writer, s.accountId, suppressed, { messageId: outcome.id, from: s.mailFrom }, this.now());
    return { ...outcome, suppressed: suppressed.map((x) => x.address) };
  }

  /**
   * Several messages, all accepted ones in one commit (POST /v1/messages/batch). Each is
   * checked and counted against the limits on its own: a refused one (its Failure in its
   * place) leaves the others accepted.
   */
  async submitBatch(items: Submission[]): Promise<((Accepted & { suppressed: string[] }) | Failure)[]> {
    const shared = new SharedCommit(this.storage.writer);
    return Promise.all(
      items.map(async (s) => {
        const slot = shared.slot();
        try {
          return await this.submit(s, slot);
        } catch (err) {
          return asFailure(err);
        } finally {
          slot.close();
        }
      }),
    );
  }

  private async commit(s: Submission, writer: Writer): Promise<Accepted> {
    if (s.raw.byteLength > this.deps.maxMessageBytes) {
      this.deps.metrics.rejected("too_large");
      throw new Failure("too-large", `Message size exceeds fixed limit of ${this.deps.maxMessageBytes} octets`);
    }
    refuseTraceProblems(s.raw, this.deps.metrics);
    if (s.recipients.length === 0) throw new Failure("invalid", "No recipients", { code: "no_recipients" });
    this.policy.checkRecipientCount(s.recipients.length);
    // The From: addresses the sender check read, for the signer: one pass for both.
    const headerFrom = await this.policy.checkSenders(s);
    const raw = removeHeaderFields(s.raw, STRIPPED_HEADERS);
    assertSingleFields(raw);
    const { name: accountName, limits, hold, listUnsubscribe, requireAlignment } = await this.policy.accounts.get(s.accountId, this.now());
    if (limits.recipientsPerDay !== null && s.recipients.length > limits.recipientsPerDay) {
      throw new Failure("invalid", `Too many recipients: the account may send to at most ${limits.recipientsPerDay} per day`, { code: "too_many_recipients" });
    }
    // RFC 7489 §3.1: refused here (nothing stored) when the account requires alignment.
    const unaligned = await this.alignment({ accountId: s.accountId, mailFrom: s.mailFrom, headerFrom, recipients: s.recipients, required: requireAlignment });
    const id = s.id ?? newId();
    // RFC 6409 §8.2, §8.3: a Date: and Message-ID: where the sender wrote none, before the list fields and the signature.
    const completed = withSubmissionFields(raw, { id, hostname: this.deps.hostname ?? "localhost", now: new Date(this.now()) });
    // Before signing: DKIM's h= covers the list fields (RFC 8058 §4).
    const listed = await withListUnsubscribe(completed, { wanted: s.listUnsubscribe ?? listUnsubscribe, links: this.deps.unsubscribe, accountId: s.accountId, messageId: id, recipients: s.recipients });
    // Signed last, over the bytes that are stored and sent: a retry never signs again.
    const signed = this.deps.signer ? await this.deps.signer.sign(listed.raw, headerFrom) : listed.raw;
    const now = this.now();
    const handoff = this.deps.handoff;
    // A scheduled message is not handed to the worker: it waits in the queue until send_at.
    const lease = s.sendAt !== undefined && s.sendAt > now ? null : (handoff?.claim(now) ?? null);
    const outcome = await enqueueMessage(
      writer,
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
        sendAt: s.sendAt,
      },
      now,
      unlimited(limits)
        ? null
        : {
            limits,
            refuse: (rate) => this.policy.throwLimit(rate),
            hold: hold
              ? (tx, rate) => holdOverLimit(tx, { accountId: s.accountId, messageId: id, mailFrom: s.mailFrom ?? "", recipients: s.recipients.length, backlog: hold.backlog, retryAfterSeconds: rate.retryAfterSeconds }, now)
              : undefined,
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
    if (!outcome.duplicate) logWarnings(this.deps.log, outcome.id, s.accountId, listed.warnings);
    if (!outcome.duplicate) unaligned?.log(outcome.id);
    return { id: outcome.id, duplicate: outcome.duplicate, warnings: unaligned ? [unaligned.warning, ...listed.warnings] : listed.warnings };
  }
}
