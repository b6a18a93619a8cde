/** What a client is told about a suppressed recipient (SMTP RCPT and the HTTP 202/422). */
import { reply, type Reply } from "../core/reply.ts";
import type { Suppression } from "./store.ts";

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * RFC 3463: 5.1.1 for an address that hard-bounced (the mailbox is gone, as far as we
 * know), 5.7.1 for one the account chose not to mail (manual), that complained, or that
 * unsubscribed (RFC 8058 one-click).
 */
export function suppressedReply(address: string, s: Suppression): Reply {
  if (s.reason === "bounce") return reply(550, "5.1.1", `<${address}> hard-bounced on ${day(s.createdAt)} and is suppressed for this account`);
  const why = s.reason === "complaint" ? "complained" : s.reason === "unsubscribe" ? "unsubscribed" : "was added to the suppression list";
  return reply(550, "5.7.1", `<${address}> ${why} on ${day(s.createdAt)} and is suppressed for this account`);
}
