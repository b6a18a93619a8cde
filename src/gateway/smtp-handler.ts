/**
 * The gateway as the SMTP session's SubmissionHandler: the in-process handoff. Every
 * answer is a reply value mapped in errors.ts; our own failures (storage, a bug) are
 * logged there once with their cause and answered 451 4.3.0 (never a 250).
 */
import type { Mailbox } from "../smtp/address.ts";
import type { AcceptOutcome, AuthOutcome, Credentials, Envelope, SessionInfo, SubmissionHandler } from "../smtp/handler.ts";
import type { MailParams } from "../smtp/params.ts";
import type { Reply } from "../core/reply.ts";
import type { Logger } from "../core/log.ts";
import { headerValues } from "../mime/headers.ts";
import { reportFailure, toSmtpReply } from "./errors.ts";
import type { Gateway } from "./gateway.ts";
import { Failure } from "../core/failure.ts";

export const SMTP_IDEMPOTENCY_HEADER = "Smarthost-Idempotency-Key";
const KEY_SYNTAX = /^[\x21-\x7e]{1,255}$/;

export function createSmtpHandler(gateway: Gateway, log: Logger): SubmissionHandler {
  const failed = (err: unknown, session: SessionInfo, step: string): Reply =>
    toSmtpReply(reportFailure(err, log, "gateway_error", { session: session.sessionId, step }));
  return {
    async identify(session: SessionInfo) {
      try {
        return await gateway.auth.identifyNetwork(session.remoteAddress);
      } catch (err) {
        // Not knowing the network is not a refusal: the client can still authenticate.
        reportFailure(err, log, "gateway_error", { session: session.sessionId, step: "identify" });
        return null;
      }
    },
    async authenticate(session: SessionInfo, c: Credentials): Promise<AuthOutcome> {
      try {
        return { ok: true, principal: await gateway.auth.authenticateSmtp(session.remoteAddress, c.username, c.password, c.authzid) };
      } catch (err) {
        return { ok: false, reply: failed(err, session, "auth") };
      }
    },
    async checkSender(session: SessionInfo, from: Mailbox | null, _params: MailParams): Promise<Reply | null> {
      try {
        await gateway.policy.checkEnvelopeSender(session.principal, from?.address ?? null);
        return null;
      } catch (err) {
        return failed(err, session, "sender");
      }
    },
    async checkRecipient(session: SessionInfo, envelope: Envelope, to: Mailbox): Promise<Reply | null> {
      try {
        gateway.policy.checkRelay(session.principal);
        return await gateway.policy.suppressedRecipient(session.principal!.accountId, envelope.from?.address ?? null, to.address);
      } catch (err) {
        return failed(err, session, "recipient");
      }
    },
    async accept(session: SessionInfo, envelope: Envelope, message: Uint8Array, proposedId: string): Promise<AcceptOutcome> {
      try {
        if (!session.principal) throw new Failure("relay-denied", "Relay access denied: authenticate first");
        const keys = headerValues(message, SMTP_IDEMPOTENCY_HEADER);
        const key = keys[0];
        if (key !== undefined && (keys.length > 1 || !KEY_SYNTAX.test(key))) {
          throw new Failure("invalid", `Bad ${SMTP_IDEMPOTENCY_HEADER} header`);
        }
        const outcome = await gateway.submit({
          accountId: session.principal.accountId,
          source: "smtp",
          mailFrom: envelope.from?.address ?? null,
          recipients: envelope.recipients.map((r) => ({
            address: r.mailbox.address,
            domain: r.mailbox.domain,
            notify: r.params.notify?.join(","),
            orcpt: r.params.orcpt,
          })),
          raw: message,
          id: proposedId,
          idempotencyKey: key,
          envid: envelope.params.envid,
          ret: envelope.params.ret,
          smtputf8: envelope.params.smtputf8,
        });
        return { ok: true, id: outcome.id };
      } catch (err) {
        return { ok: false, reply: failed(err, session, "accept") };
      }
    },
  };
}
