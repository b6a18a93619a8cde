/**
 * The inbound listener's SubmissionHandler (SMARTHOST_INBOUND_LISTEN): the same SMTP
 * session and listener as the ingress, answering for two kinds of mailbox only — valid
 * return-path tokens at a return-path domain, and SMARTHOST_COMPLAINT_ADDRESS. Any other
 * recipient is refused 550 5.7.1 (no relay, no other mailbox); no AUTH is offered. What is
 * accepted is read and acted on (act.ts), then dropped: never queued, never forwarded.
 */
import type { Sql } from "../db/raw.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import type { Logger } from "../core/log.ts";
import { errorFields } from "../core/log.ts";
import { reply, type Reply } from "../core/reply.ts";
import type { AcceptOutcome, SubmissionHandler } from "../smtp/handler.ts";
import { Cached } from "../util/cached.ts";
import { returnDomains } from "../return-path/store.ts";
import { readReturnLocalPart, type Mac } from "../return-path/token.ts";
import { actOnReport, type InboundOutcome, type InboundTarget } from "./act.ts";
import { readReport } from "./reports.ts";

// A new return-path domain is taken within this.
const DOMAINS_CACHE_MS = 5_000;

const noSuchMailbox = reply(550, "5.7.1", "No such mailbox here: this server takes only bounces and feedback reports (relay access denied)");
const notStored = reply(451, "4.3.0", "Temporary failure: please try again later");

export interface InboundDeps {
  sql: Sql;
  writer: GroupCommit;
  mac: Mac;
  /** SMARTHOST_COMPLAINT_ADDRESS, lower-cased; null: none. */
  complaintAddress: string | null;
  log: Logger;
  /** Counts each message by what became of it (the metric). */
  count?: (outcome: InboundOutcome) => void;
  now?: () => number;
}

export function createInboundHandler(deps: InboundDeps): SubmissionHandler {
  const now = deps.now ?? Date.now;
  const domains = new Cached(DOMAINS_CACHE_MS, () => returnDomains(deps.sql));

  async function targetOf(address: string): Promise<InboundTarget | null> {
    const lower = address.toLowerCase();
    if (deps.complaintAddress !== null && lower === deps.complaintAddress) return { kind: "complaint" };
    const at = lower.lastIndexOf("@");
    if (at < 1 || !(await domains.get(now())).has(lower.slice(at + 1))) return null;
    const token = await readReturnLocalPart(deps.mac, lower.slice(0, at));
    return token ? { kind: "token", token } : null;
  }

  return {
    identify: async () => null,
    authenticate: async () => ({ ok: false, reply: reply(502, "5.5.1", "Command not implemented") }),
    checkSender: async () => null,
    async checkRecipient(session, _envelope, to): Promise<Reply | null> {
      try {
        if (await targetOf(to.address)) return null;
        deps.log("inbound_refused", { session: session.sessionId, remote: session.remoteAddress, rcpt: to.address.slice(0, 320) });
        return noSuchMailbox;
      } catch (err) {
        deps.log("inbound_error", { session: session.sessionId, step: "recipient", error: errorFields(err) });
        return notStored;
      }
    },
    async accept(session, envelope, message, proposedId): Promise<AcceptOutcome> {
      try {
        const targets = (await Promise.all(envelope.recipients.map((r) => targetOf(r.mailbox.address)))).filter((t): t is InboundTarget => t !== null);
        const report = await readReport(message);
        const outcome = await actOnReport({ sql: deps.sql, writer: deps.writer, mac: deps.mac, now }, targets, report);
        deps.count?.(outcome);
        deps.log("inbound_received", { session: session.sessionId, id: proposedId, from: envelope.from?.address ?? "", kind: report.kind, outcome, ...(report.kind === "other" ? { why: report.why } : {}) });
        return { ok: true, id: proposedId };
      } catch (err) {
        deps.log("inbound_error", { session: session.sessionId, id: proposedId, step: "accept", error: errorFields(err) });
        return { ok: false, reply: notStored };
      }
    },
  };
}
