/** A SubmissionHandler kept in memory, for driving the protocol core in unit tests. */
import type { AcceptOutcome, AuthOutcome, Credentials, Envelope, SessionInfo, SubmissionHandler } from "../../src/smtp/handler.ts";
import type { Mailbox } from "../../src/smtp/address.ts";
import type { RcptParams } from "../../src/smtp/params.ts";
import { reply, type Reply } from "../../src/core/reply.ts";

export interface Stored {
  envelope: Envelope;
  message: Uint8Array;
  id: string;
}

export class MemoryHandler implements SubmissionHandler {
  readonly stored: Stored[] = [];
  constructor(private readonly users: Record<string, string> = { alice: "secret" }) {}

  async identify() {
    return null;
  }
  async authenticate(_s: SessionInfo, c: Credentials): Promise<AuthOutcome> {
    if (this.users[c.username] === c.password && (c.authzid === "" || c.authzid === c.username)) {
      return { ok: true, principal: { username: c.username, accountId: "acct" } };
    }
    return { ok: false, reply: reply(535, "5.7.8", "Authentication credentials invalid") };
  }
  async checkSender() {
    return null;
  }
  async checkRecipient(s: SessionInfo, _envelope: Envelope, _to: Mailbox, _params: RcptParams): Promise<Reply | null> {
    return s.principal ? null : reply(554, "5.7.1", "Relay access denied");
  }
  async accept(_s: SessionInfo, envelope: Envelope, message: Uint8Array, id: string): Promise<AcceptOutcome> {
    this.stored.push({ envelope: { ...envelope, recipients: [...envelope.recipients] }, message, id });
    return { ok: true, id };
  }
}
