/**
 * The SMTP server session (RFC 5321) as a state machine: bytes in, replies and
 * transport requests (STARTTLS, close) out. No sockets here; the ingress owns those.
 *
 * Input is appended synchronously by `receive` and processed in order by one loop, so
 * pipelined commands are answered in sequence however the bytes were split. Replies are
 * held until the loop needs more input, then written together (RFC 2920 §3.2).
 */
import { ehloKeywords, parseMailArgument, parseRcptArgument } from "./arguments.ts";
import { ChunkReader } from "./chunk-reader.ts";
import { concat } from "../util/bytes.ts";
import { chunkBody, dataBody, type BodyIntake } from "./body.ts";
import type { Envelope, EnvelopeRecipient, Principal, SessionInfo, SubmissionHandler, TlsInfo } from "./handler.ts";
import { newId } from "./ids.ts";
import type { MailParams } from "./params.ts";
import { formatReply, replies, reply, type Reply } from "./reply.ts";
import { encodeBase64Text, SaslExchange, type SaslStep } from "./sasl.ts";
import { receivedHeader } from "./trace.ts";
import type { Logger, Peer, SessionConfig, SessionTransport } from "./session-types.ts";
import { LineFramer } from "./command-line.ts";
import type { Expiry, Waiting } from "./deadlines.ts";

const HTTP_VERBS = new Set(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH"]);
const EMPTY = new Uint8Array(0);

type Mode = "greeting" | "command" | "auth" | "body" | "tls" | "closed";

interface Transaction {
  readonly id: string;
  readonly from: Envelope["from"];
  readonly params: MailParams;
  readonly recipients: EnvelopeRecipient[];
  chunks: ChunkReader | null;
}

export class SmtpSession {
  private mode: Mode = "greeting";
  private buf: Uint8Array = EMPTY;
  private out = "";
  private active = false;
  private current: Promise<void> = Promise.resolve();
  private readonly framer = new LineFramer();
  private errors = 0;
  private helo: string | null = null;
  private esmtp = false;
  private tls: TlsInfo | null;
  private authPrincipal: Principal | null = null;
  private networkPrincipal: Principal | null = null;
  private identified = false;
  private tx: Transaction | null = null;
  private sasl: SaslExchange | null = null;
  private body: BodyIntake | null = null;
  private consumed = 0;
  readonly sessionId = newId(8);

  constructor(
    private readonly config: SessionConfig,
    private readonly handler: SubmissionHandler,
    private readonly transport: SessionTransport,
    private readonly peer: Peer,
    private readonly log: Logger = () => {},
  ) {
    this.tls = peer.tls;
  }

  /** Input received and not yet consumed (it waits while the session awaits the gateway). */
  get bufferedBytes(): number {
    return this.buf.length;
  }

  get closed(): boolean {
    return this.mode === "closed";
  }

  /** What the session waits for from the client, for the ingress's clocks (deadlines.ts). */
  get waiting(): Waiting {
    if (this.mode === "closed" || (this.active && this.mode !== "tls")) return "busy";
    if (this.mode === "tls") return "handshake";
    if (this.mode === "body") return "body";
    return this.buf.length > 0 ? "partial-command" : "command";
  }

  /** Units of input (lines, bodies) consumed so far. */
  get progress(): number {
    return this.consumed;
  }

  private get principal(): Principal | null {
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

  /** Sends the greeting. */
  start(): void {
    if (this.mode !== "greeting") return;
    this.mode = "command";
    this.transport.send(formatReply(reply(220, undefined, `${this.config.hostname} ESMTP smarthost`)));
  }

  receive(chunk: Uint8Array): Promise<void> {
    if (this.mode === "closed") return Promise.resolve();
    // Input before the greeting: an early talker, typical of spam engines.
    if (this.mode === "greeting") {
      this.closeWith(replies.earlyTalker);
      return Promise.resolve();
    }
    this.buf = this.buf.length === 0 ? chunk : concat([this.buf, chunk]);
    // The promise settles once this input is consumed: the ingress reads no more until then.
    if (!this.active) this.current = this.run();
    return this.current;
  }

  /** A deadline passed (RFC 5321 §4.5.3.2; see deadlines.ts). */
  timeout(expiry: Expiry = "idle"): void {
    if (this.mode === "closed") return;
    this.log("timeout", { session: this.sessionId, remote: this.peer.remoteAddress, expiry });
    if (expiry === "handshake") {
      // Mid-handshake the client cannot read a plaintext reply.
      this.mode = "closed";
      this.buf = EMPTY;
      this.transport.close();
      return;
    }
    this.closeWith(expiry === "command" ? replies.commandTimeout : expiry === "data-rate" ? replies.dataRateTooLow : replies.timeout);
  }

  shutdown(): void {
    this.closeWith(replies.shuttingDown);
  }

  private async run(): Promise<void> {
    this.active = true;
    try {
      while (this.buf.length > 0 && (this.mode === "command" || this.mode === "auth" || this.mode === "body")) {
        if (!(await this.step())) break;
        this.consumed++;
      }
    } catch (err) {
      this.log("session_error", { session: this.sessionId, error: String(err) });
      this.closeWith(replies.tempFailure);
    } finally {
      this.active = false;
      this.flush();
    }
  }

  /** Processes one unit of input; false when more input is needed. */
  private async step(): Promise<boolean> {
    if (this.mode === "body") {
      const body = this.body!;
      this.buf = this.buf.subarray(body.feed(this.buf));
      if (!body.done) return false;
      this.mode = "command";
      this.body = null;
      const end = body.end(() => this.traceHeader(this.tx!));
      if (end.kind === "message") await this.commit(end.bytes);
      else {
        if (end.endsTransaction) this.tx = null;
        this.send(end.reply);
      }
      return true;
    }
    const line = this.takeLine();
    if (line === null) return false;
    if (line === undefined) return true;
    if (this.mode === "auth") await this.authStep(this.sasl!.respond(line));
    else await this.command(line);
    return true;
  }

  /** The next command line; null when incomplete, undefined when it was refused. */
  private takeLine(): string | null | undefined {
    const { framed, rest } = this.framer.take(this.buf, this.mode === "auth");
    this.buf = rest;
    switch (framed.kind) {
      case "line":
        return framed.text;
      case "incomplete":
        return null;
      case "bare":
        // A bare CR or LF in a command: the client is broken or smuggling. Refuse and hang up.
        this.closeWith(replies.bareLineEnding);
        return undefined;
      case "refused":
        if (framed.reply) this.send(framed.reply);
        if (this.mode === "auth") this.endAuth();
        return undefined;
    }
  }

  private async command(line: string): Promise<void> {
    const sp = line.indexOf(" ");
    const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
    const arg = sp < 0 ? "" : line.slice(sp + 1);
    switch (verb) {
      case "EHLO":
      case "HELO":
        return this.hello(verb === "EHLO", arg.trim());
      case "MAIL":
        return this.mail(arg);
      case "RCPT":
        return this.rcpt(arg);
      case "DATA":
        return this.data(arg);
      case "BDAT":
        return this.bdat(arg);
      case "RSET":
        this.tx = null;
        return this.send(replies.resetOk);
      case "NOOP":
        return this.send(replies.noop);
      case "QUIT":
        return this.closeWith(replies.closing(this.config.hostname));
      case "VRFY":
        return this.send(arg.trim() ? replies.vrfy : replies.syntax("VRFY needs an argument"));
      case "HELP":
        return this.send(replies.help);
      case "STARTTLS":
        return this.startTls(arg);
      case "AUTH":
        return this.auth(arg);
      case "EXPN":
      case "TURN":
      case "ETRN":
        return this.send(replies.notImplemented);
      default:
        if (HTTP_VERBS.has(verb)) return this.closeWith(replies.nonSmtp);
        return this.send(replies.unrecognized);
    }
  }

  private async hello(extended: boolean, domain: string): Promise<void> {
    if (!/^[\x21-\x7e\u0080-\u{10ffff}]{1,255}$/u.test(domain)) {
      return this.send(replies.syntax(`${extended ? "EHLO" : "HELO"} needs a domain or address literal`));
    }
    if (!this.identified) {
      this.identified = true;
      this.networkPrincipal = await this.handler.identify(this.info);
    }
    // Commands pipelined behind EHLO before its reply: no legitimate client does that
    // (it cannot yet know PIPELINING is offered). Cut off unauthenticated ones.
    if (this.buf.length > 0 && !this.principal) return this.closeWith(replies.improperPipelining);
    this.helo = domain;
    this.esmtp = extended;
    this.tx = null;
    const host = this.config.hostname;
    if (!extended) return this.send(reply(250, undefined, host));
    const keywords = ehloKeywords({
      maxMessageBytes: this.config.maxMessageBytes,
      offerStartTls: this.config.tlsAvailable && !this.tls,
      offerAuth: (this.tls !== null || this.config.allowInsecureAuth) && !this.authPrincipal,
    });
    this.send(reply(250, undefined, `${host} greets ${domain}`, ...keywords));
  }

  private async mail(arg: string): Promise<void> {
    if (!this.helo) return this.send(replies.badSequence("Send HELO/EHLO first"));
    if (this.tx) return this.send(replies.badSequence("Nested MAIL command"));
    const parsed = parseMailArgument(arg, this.config.maxMessageBytes);
    if ("code" in parsed) return this.send(parsed);
    const refusal = await this.handler.checkSender(this.info, parsed.from, parsed.params);
    if (refusal) return this.send(refusal);
    this.tx = { id: newId(), from: parsed.from, params: parsed.params, recipients: [], chunks: null };
    this.send(replies.senderOk);
  }

  private async rcpt(arg: string): Promise<void> {
    const tx = this.tx;
    if (!tx) return this.send(replies.badSequence("Need MAIL command"));
    const parsed = parseRcptArgument(arg, tx.params.smtputf8);
    if ("code" in parsed) return this.send(parsed);
    if (tx.recipients.length >= this.config.maxRecipients) return this.send(replies.tooManyRecipients);
    const refusal = await this.handler.checkRecipient(this.info, this.envelope(tx), parsed.to, parsed.params);
    if (refusal) return this.send(refusal);
    tx.recipients.push({ mailbox: parsed.to, params: parsed.params });
    this.send(replies.recipientOk);
  }

  private data(arg: string): void {
    if (arg.trim()) return this.send(replies.syntax("DATA takes no argument"));
    const tx = this.tx;
    if (!tx) return this.send(replies.badSequence("Need MAIL command"));
    if (tx.chunks) return this.send(replies.badSequence("DATA cannot follow BDAT"));
    if (tx.recipients.length === 0) return this.send(replies.noValidRecipients);
    this.body = dataBody(this.config.maxMessageBytes);
    this.mode = "body";
    this.send(replies.startData);
  }

  private bdat(arg: string): void {
    const m = /^(\d{1,15})(?: +(LAST))? *$/i.exec(arg);
    // Without a size the chunk cannot be skipped, so the dialog cannot stay in step.
    if (!m) return this.closeWith(replies.syntax("Syntax: BDAT size [LAST]"));
    const tx = this.tx;
    const refusal = !tx ? replies.badSequence("Need MAIL command") : tx.recipients.length === 0 ? replies.noValidRecipients : null;
    const reader = tx && !refusal ? (tx.chunks ??= new ChunkReader(this.config.maxMessageBytes)) : null;
    this.body = chunkBody(reader, Number(m[1]), m[2] !== undefined, refusal, this.config.maxMessageBytes);
    this.mode = "body";
  }

  private traceHeader(tx: Transaction): Uint8Array {
    return new TextEncoder().encode(receivedHeader(this.config.hostname, this.info, this.envelope(tx), tx.id, new Date()));
  }

  /** Hands the whole message (trace header first) to the handler; 250 once it is committed. */
  private async commit(message: Uint8Array): Promise<void> {
    const tx = this.tx!;
    this.tx = null;
    const envelope = this.envelope(tx);
    const outcome = await this.handler.accept(this.info, envelope, message, tx.id);
    if (!outcome.ok) return this.send(outcome.reply);
    this.log("accepted", { session: this.sessionId, id: outcome.id, size: message.length, rcpts: envelope.recipients.length });
    this.send(replies.queued(outcome.id));
  }

  private startTls(arg: string): void {
    if (arg.trim()) return this.send(replies.syntax("STARTTLS takes no argument"));
    if (this.tls) return this.send(replies.badSequence("TLS already active"));
    if (!this.config.tlsAvailable) return this.send(replies.tlsUnavailable);
    this.send(replies.readyTls);
    this.flush();
    // RFC 3207 §4.2 / CVE-2011-0411: anything pipelined behind STARTTLS is discarded.
    this.buf = EMPTY;
    this.mode = "tls";
    this.transport.startTls().then(
      (info) => {
        if (this.mode !== "tls") return;
        // RFC 3207 §4.2: forget everything learned before TLS.
        this.tls = info;
        this.helo = null;
        this.esmtp = false;
        this.authPrincipal = null;
        this.tx = null;
        this.mode = "command";
        if (!this.active) this.current = this.run();
      },
      (err) => {
        this.log("tls_failed", { session: this.sessionId, error: String(err) });
        this.mode = "closed";
        this.transport.close();
      },
    );
  }

  private async auth(arg: string): Promise<void> {
    if (this.authPrincipal) return this.send(replies.badSequence("Already authenticated"));
    if (this.tx) return this.send(replies.badSequence("AUTH not permitted during a mail transaction"));
    if (!this.helo || !this.esmtp) return this.send(replies.badSequence("Send EHLO first"));
    if (!this.tls && !this.config.allowInsecureAuth) {
      return this.send(this.config.tlsAvailable ? replies.mustStartTls : replies.encryptionRequired);
    }
    const [mech = "", initial, ...extra] = arg.split(" ");
    if (extra.length > 0) return this.send(replies.syntax("Syntax: AUTH mechanism [initial-response]"));
    const exchange = SaslExchange.open(mech);
    if (!exchange) return this.send(replies.unknownMechanism);
    this.sasl = exchange;
    return this.authStep(exchange.begin(initial));
  }

  private async authStep(step: SaslStep): Promise<void> {
    if (step.kind === "challenge") {
      this.mode = "auth";
      return this.send(replies.authChallenge(encodeBase64Text(step.text)));
    }
    this.endAuth();
    if (step.kind === "cancelled") return this.send(replies.authCancelled);
    if (step.kind === "malformed") return this.send(replies.badBase64);
    if (step.kind === "malformed-plain") return this.send(replies.malformedPlain);
    const { kind: _, ...credentials } = step;
    const outcome = await this.handler.authenticate(this.info, credentials);
    if (!outcome.ok) {
      this.log("auth_failed", { session: this.sessionId, remote: this.peer.remoteAddress, user: credentials.username });
      return this.send(outcome.reply);
    }
    this.authPrincipal = outcome.principal;
    this.log("auth", { session: this.sessionId, user: credentials.username });
    this.send(replies.authOk);
  }

  private endAuth(): void {
    this.sasl = null;
    if (this.mode === "auth") this.mode = "command";
  }

  private envelope(tx: Transaction): Envelope {
    return { from: tx.from, params: tx.params, recipients: tx.recipients };
  }

  private send(r: Reply): void {
    this.out += formatReply(r);
    if (r.code >= 400 && r.code !== 421) {
      this.errors++;
      if (this.errors >= this.config.maxErrors) this.closeWith(replies.tooManyErrors);
    }
  }

  private closeWith(r: Reply): void {
    if (this.mode === "closed") return;
    this.out += formatReply(r);
    this.mode = "closed";
    this.buf = EMPTY;
    this.flush();
    this.transport.close();
  }

  private flush(): void {
    if (this.out.length === 0) return;
    const text = this.out;
    this.out = "";
    this.transport.send(text);
  }
}
