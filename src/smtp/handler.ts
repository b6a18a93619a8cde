/**
 * What the protocol core asks of the outside world. The SMTP session decides nothing
 * about who may send: it asks a SubmissionHandler (the gateway implements it) at AUTH,
 * MAIL, RCPT and end of data, and turns the answers into replies.
 */
import type { Mailbox } from "./address.ts";
import type { MailParams, RcptParams } from "./params.ts";
import type { Reply } from "../core/reply.ts";

export interface TlsInfo {
  readonly protocol: string;
  readonly cipher: string;
}

export interface Principal {
  /** The SMTP username that authenticated. */
  readonly username: string;
  /** The account it belongs to, as the handler knows it. */
  readonly accountId: string;
  /** On an ingress-only node: the gateway's signed statement of this principal, opaque to the session. */
  readonly grant?: string;
}

export interface SessionInfo {
  readonly sessionId: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly tls: TlsInfo | null;
  readonly helo: string | null;
  readonly esmtp: boolean;
  /** Who is sending: from AUTH, or from a trusted network the client connects from. */
  readonly principal: Principal | null;
  /** True when the principal came from SMTP AUTH. */
  readonly authenticated: boolean;
}

export interface EnvelopeRecipient {
  readonly mailbox: Mailbox;
  readonly params: RcptParams;
}

export interface Envelope {
  /** Null for the null reverse-path "<>". */
  readonly from: Mailbox | null;
  readonly params: MailParams;
  readonly recipients: readonly EnvelopeRecipient[];
}

export interface Credentials {
  readonly mechanism: "PLAIN" | "LOGIN";
  /** PLAIN's authorization identity; empty when absent. */
  readonly authzid: string;
  readonly username: string;
  readonly password: string;
}

export type AuthOutcome = { ok: true; principal: Principal } | { ok: false; reply: Reply };
export type AcceptOutcome = { ok: true; id: string } | { ok: false; reply: Reply };

export interface SubmissionHandler {
  /** The principal of a client by its address alone (trusted networks), asked once per session. */
  identify(session: SessionInfo): Promise<Principal | null>;
  authenticate(session: SessionInfo, credentials: Credentials): Promise<AuthOutcome>;
  /** Null accepts the sender; a reply refuses it. */
  checkSender(session: SessionInfo, from: Mailbox | null, params: MailParams): Promise<Reply | null>;
  /** Null accepts the recipient; a reply refuses it. */
  checkRecipient(session: SessionInfo, envelope: Envelope, to: Mailbox, params: RcptParams): Promise<Reply | null>;
  /**
   * Commits the message (trace header already prepended). `ok` only once it is durably
   * stored: the 250 the client sees depends on it.
   */
  accept(session: SessionInfo, envelope: Envelope, message: Uint8Array, proposedId: string): Promise<AcceptOutcome>;
}
