/**
 * What one SMTP session knows and how it answers: the state the command modules
 * (session-transaction.ts, session-auth.ts, session-starttls.ts) read and change, and the
 * reply buffer they write to. Replies are held until the input loop needs more input,
 * then written together (RFC 2920 §3.2).
 */
import type { BodyIntake } from "./body.ts";
import type { ChunkReader } from "./chunk-reader.ts";
import type { Envelope, EnvelopeRecipient, Principal, SessionInfo, SubmissionHandler, TlsInfo } from "./handler.ts";
import { newId } from "./ids.ts";
import type { MailParams } from "./params.ts";
import { formatReply, replies, type Reply } from "../core/reply.ts";
import type { SaslExchange } from "./sasl.ts";
import type { Logger } from "../core/log.ts";
import type { Peer, SessionConfig, SessionTransport } from "./session-types.ts";

export const EMPTY = new Uint8Array(0);

/** What the next input is: command lines, SASL responses, message octets, or nothing. */
export type Mode = "greeting" | "command" | "auth" | "body" | "tls" | "closed";

export interface Transaction {
  readonly id: string;
  readonly from: Envelope["from"];
  readonly params: MailParams;
  readonly recipients: EnvelopeRecipient[];
  chunks: ChunkReader | null;
}

export class SessionState {
  mode: Mode = "greeting";
  /** Input received and not yet consumed. */
  buf: Uint8Array = EMPTY;
  helo: string | null = null;
  esmtp = false;
  tls: TlsInfo | null;
  authPrincipal: Principal | null = null;
  networkPrincipal: Principal | null = null;
  /** The handler was asked who the client is by its address (once per session). */
  identified = false;
  tx: Transaction | null = null;
  sasl: SaslExchange | null = null;
  body: BodyIntake | null = null;
  private out = "";
  private errors = 0;
  readonly sessionId = newId(8);

  constructor(
    readonly config: SessionConfig,
    readonly handler: SubmissionHandler,
    readonly transport: SessionTransport,
    readonly peer: Peer,
    readonly log: Logger,
  ) {
    this.tls = peer.tls;
  }

  get principal(): Principal | null {
    return this.authPrincipal ?? this.networkPrincipal;
  }

  get info(): SessionInfo {
    return {
      sessionId: this.sessionId,
      remoteAddress: this.peer.remoteAddress,
      remotePort: this.peer.remotePort,
      localPort: this.peer.localPort,
      tls: this.tls,
      helo: this.helo,
      esmtp: this.esmtp,
      principal: this.principal,
      authenticated: this.authPrincipal !== null,
    };
  }

  envelope(tx: Transaction): Envelope {
    return { from: tx.from, params: tx.params, recipients: tx.recipients };
  }

  /** Queues a reply; too many error replies end the session. */
  send(r: Reply): void {
    this.out += formatReply(r);
    if (r.code >= 400 && r.code !== 421) {
      this.errors++;
      if (this.errors >= this.config.maxErrors) this.closeWith(replies.tooManyErrors);
    }
  }

  /** The last reply: written at once, then the link is closed and further input ignored. */
  closeWith(r: Reply): void {
    if (this.mode === "closed") return;
    this.out += formatReply(r);
    this.mode = "closed";
    this.buf = EMPTY;
    this.flush();
    this.transport.close();
  }

  /** Writes the queued replies. */
  flush(): void {
    if (this.out.length === 0) return;
    const text = this.out;
    this.out = "";
    this.transport.send(text);
  }
}
