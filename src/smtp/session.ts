/**
 * The SMTP server session (RFC 5321) as a state machine: bytes in, replies and
 * transport requests (STARTTLS, close) out. No sockets here; the ingress owns those.
 *
 * Input is appended synchronously by `receive` and processed in order by one loop, so
 * pipelined commands are answered in sequence however the bytes were split. Replies are
 * held until the loop needs more input, then written together (RFC 2920 §3.2).
 *
 * This file holds the loop and the command table; the state and reply buffer are in
 * session-state.ts, the commands in session-transaction.ts (MAIL, RCPT, DATA, BDAT),
 * session-auth.ts (AUTH) and session-starttls.ts (STARTTLS).
 */
import { ehloKeywords } from "./arguments.ts";
import { concat } from "../util/bytes.ts";
import type { SessionInfo, SubmissionHandler } from "./handler.ts";
import { formatReply, replies, reply } from "../core/reply.ts";
import { errorFields, type Logger } from "../core/log.ts";
import type { Peer, SessionConfig, SessionTransport } from "./session-types.ts";
import { LineFramer } from "./command-line.ts";
import type { Expiry, Waiting } from "./deadlines.ts";
import { EMPTY, SessionState } from "./session-state.ts";
import { bdat, data, mail, rcpt, takeBody } from "./session-transaction.ts";
import { auth, authResponse, endAuth } from "./session-auth.ts";
import { startTls } from "./session-starttls.ts";

const HTTP_VERBS = new Set(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH"]);

export class SmtpSession {
  private readonly s: SessionState;
  private active = false;
  private current: Promise<void> = Promise.resolve();
  private readonly framer = new LineFramer();
  private consumed = 0;

  constructor(config: SessionConfig, handler: SubmissionHandler, transport: SessionTransport, peer: Peer, log: Logger = () => {}) {
    this.s = new SessionState(config, handler, transport, peer, log);
  }

  get sessionId(): string {
    return this.s.sessionId;
  }

  /** Input received and not yet consumed (it waits while the session awaits the gateway). */
  get bufferedBytes(): number {
    return this.s.buf.length;
  }

  get closed(): boolean {
    return this.s.mode === "closed";
  }

  /** What the session waits for from the client, for the ingress's clocks (deadlines.ts). */
  get waiting(): Waiting {
    const mode = this.s.mode;
    if (mode === "closed" || (this.active && mode !== "tls")) return "busy";
    if (mode === "tls") return "handshake";
    if (mode === "body") return "body";
    return this.s.buf.length > 0 ? "partial-command" : "command";
  }

  /** Units of input (lines, bodies) consumed so far. */
  get progress(): number {
    return this.consumed;
  }

  get info(): SessionInfo {
    return this.s.info;
  }

  /** Sends the greeting. */
  start(): void {
    const s = this.s;
    if (s.mode !== "greeting") return;
    s.mode = "command";
    s.transport.send(formatReply(reply(220, undefined, `${s.config.hostname} ESMTP smarthost`)));
  }

  /**
   * Input from the client. The session keeps views of `chunk` (a message body is joined from
   * them only at its end), so the caller hands over memory it will not reuse or change.
   */
  receive(chunk: Uint8Array): Promise<void> {
    const s = this.s;
    if (s.mode === "closed") return Promise.resolve();
    // Input before the greeting: an early talker, typical of spam engines.
    if (s.mode === "greeting") {
      s.closeWith(replies.earlyTalker);
      return Promise.resolve();
    }
    s.buf = s.buf.length === 0 ? chunk : concat([s.buf, chunk]);
    // The promise settles once this input is consumed: the ingress reads no more until then.
    if (!this.active) this.current = this.run();
    return this.current;
  }

  /** A deadline passed (RFC 5321 §4.5.3.2; see deadlines.ts). */
  timeout(expiry: Expiry = "idle"): void {
    const s = this.s;
    if (s.mode === "closed") return;
    s.log("timeout", { session: s.sessionId, remote: s.peer.remoteAddress, expiry });
    if (expiry === "handshake") {
      // Mid-handshake the client cannot read a plaintext reply.
      s.mode = "closed";
      s.buf = EMPTY;
      s.transport.close();
      return;
    }
    s.closeWith(expiry === "command" ? replies.commandTimeout : expiry === "data-rate" ? replies.dataRateTooLow : replies.timeout);
  }

  shutdown(): void {
    this.s.closeWith(replies.shuttingDown);
  }

  private async run(): Promise<void> {
    const s = this.s;
    this.active = true;
    try {
      while (s.buf.length > 0 && (s.mode === "command" || s.mode === "auth" || s.mode === "body")) {
        if (!(await this.step())) break;
        this.consumed++;
      }
    } catch (err) {
      s.log("session_error", { session: s.sessionId, error: errorFields(err) });
      s.closeWith(replies.tempFailure);
    } finally {
      this.active = false;
      s.flush();
    }
  }

  /** Processes one unit of input; false when more input is needed. */
  private async step(): Promise<boolean> {
    if (this.s.mode === "body") return takeBody(this.s);
    const line = this.takeLine();
    if (line === null) return false;
    if (line === undefined) return true;
    if (this.s.mode === "auth") await authResponse(this.s, line);
    else await this.command(line);
    return true;
  }

  /** The next command line; null when incomplete, undefined when it was refused. */
  private takeLine(): string | null | undefined {
    const s = this.s;
    const { framed, rest } = this.framer.take(s.buf, s.mode === "auth");
    s.buf = rest;
    switch (framed.kind) {
      case "line":
        return framed.text;
      case "incomplete":
        return null;
      case "bare":
        // A bare CR or LF in a command: the client is broken or smuggling. Refuse and hang up.
        s.closeWith(replies.bareLineEnding);
        return undefined;
      case "refused":
        if (framed.reply) s.send(framed.reply);
        if (s.mode === "auth") endAuth(s);
        return undefined;
    }
  }

  private async command(line: string): Promise<void> {
    const s = this.s;
    const sp = line.indexOf(" ");
    const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? "" : line.slice(sp + 1);
    switch (verb) {
      case "EHLO":
      case "HELO":
        return this.hello(verb === "EHLO", arg.trim());
      case "MAIL":
        return mail(s, arg);
      case "RCPT":
        return rcpt(s, arg);
      case "DATA":
        return data(s, arg);
      case "BDAT":
        return bdat(s, arg);
      case "RSET":
        s.tx = null;
        return s.send(replies.resetOk);
      case "NOOP":
        return s.send(replies.noop);
      case "QUIT":
        return s.closeWith(replies.closing(s.config.hostname));
      case "VRFY":
        return s.send(arg.trim() ? replies.vrfy : replies.syntax("VRFY needs an argument"));
      case "HELP":
        return s.send(replies.help);
      case "STARTTLS":
        return startTls(s, arg, () => {
          if (!this.active) this.current = this.run();
        });
      case "AUTH":
        return auth(s, arg);
      case "EXPN":
      case "TURN":
      case "ETRN":
        return s.send(replies.notImplemented);
      default:
        if (HTTP_VERBS.has(verb)) return s.closeWith(replies.nonSmtp);
        return s.send(replies.unrecognized);
    }
  }

  private async hello(extended: boolean, domain: string): Promise<void> {
    const s = this.s;
    if (!/^[\x21-\x7e\u0080-\u{10ffff}]{1,255}$/u.test(domain)) {
      return s.send(replies.syntax(`${extended ? "EHLO" : "HELO"} needs a domain or address literal`));
    }
    if (!s.identified) {
      s.identified = true;
      s.networkPrincipal = await s.handler.identify(s.info);
    }
    // Commands pipelined behind EHLO before its reply: no legitimate client does that
    // (it cannot yet know PIPELINING is offered). Cut off unauthenticated ones.
    if (s.buf.length > 0 && !s.principal) return s.closeWith(replies.improperPipelining);
    s.helo = domain;
    s.esmtp = extended;
    s.tx = null;
    const host = s.config.hostname;
    if (!extended) return s.send(reply(250, undefined, host));
    const keywords = ehloKeywords({
      maxMessageBytes: s.config.maxMessageBytes,
      offerStartTls: s.config.tlsAvailable && !s.tls,
      offerAuth: s.config.offerAuth !== false && (s.tls !== null || s.config.allowInsecureAuth) && !s.authPrincipal,
    });
    s.send(reply(250, undefined, `${host} greets ${domain}`, ...keywords));
  }
}
