/**
 * What an attempt's outcome makes of each recipient: delivered, bounced (with or without a
 * DSN due), or deferred with backoff — and bounced once the queue lifetime is over.
 */
import type { DeliveryGroup, LeasedRecipient } from "../queue/lease.ts";
import { replyLine, type RecipientUpdate, type StoredReply } from "../queue/outcomes.ts";
import type { StoredMessage } from "../queue/stored.ts";
import { upstreamReplies, type Reply } from "../core/reply.ts";
import { maxBackoffMs, nextAttemptAt } from "./backoff.ts";
import { wantsFailureDsn } from "./dsn.ts";
import type { Outcome } from "../core/delivery-result.ts";
import type { DeliveryConfig } from "./worker-config.ts";
import type { TlsRecord } from "../core/tls-record.ts";

export interface Attempt {
  outcome: Outcome;
  reply: StoredReply;
  via: string;
  remoteMta: string | null;
  tls?: TlsRecord;
}

/** The wire reply kept as values: multi-line text joined (RFC 5321 §4.2.1). */
export const stored = (r: Reply): StoredReply => ({ code: r.code, enhanced: r.enhanced ?? null, text: r.lines.join(" ").trim() });

export function recipientUpdates(recipients: DeliveryGroup["recipients"], m: StoredMessage, final: Map<number, Attempt>, c: DeliveryConfig, now: number): RecipientUpdate[] {
  // Waits we imposed (route quotas, every route down) do not count toward the lifetime.
  const expired = (r: LeasedRecipient) => now - m.createdAt - r.waitedMs >= c.lifetimeMs;
  return recipients.map((r) => {
    const a = final.get(r.id) ?? { outcome: "transient" as const, reply: stored(upstreamReplies.noRouteTried), via: "none", remoteMta: null };
    const base = { id: r.id, address: r.address, via: a.via, remoteMta: a.remoteMta, reply: a.reply, dsnDue: false, tls: a.tls };
    // Never a bounce for a bounce: a null-sender message gets no DSN (RFC 3461 §6.2).
    const bounced = { ...base, state: "bounced" as const, dsnDue: m.mailFrom !== "" && wantsFailureDsn(r.notify) };
    if (a.outcome === "delivered") return { ...base, state: "delivered" as const };
    if (a.outcome === "permanent") return bounced;
    if (expired(r)) {
      const days = Math.round((now - m.createdAt) / 86_400_000);
      return { ...bounced, reply: stored(upstreamReplies.expired(days, replyLine(a.reply))) };
    }
    return { ...base, state: "deferred" as const, nextAttemptAt: nextAttemptAt(now, r.attempts, c.retryBaseMs, maxBackoffMs(c.retryBaseMs)) };
  });
}
