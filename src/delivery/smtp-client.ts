/**
 * The relay's SMTP client over an injected `connect` (cloudflare:sockets shape): sends
 * stored raw bytes with its own envelope and reports one reply per recipient. Every read
 * and write has a deadline; a closed connection is an error, never a hang.
 */
import { upstreamReplies, type Reply } from "../core/reply.ts";
import type { Outcome, RecipientResult, Scope, Stage } from "../core/delivery-result.ts";
import { classifyReply } from "./classify.ts";
import { UpstreamError } from "./reply-reader.ts";
import { authenticate, Dialog, hello, SessionFailed, failIfNot, type DialogTimeouts } from "./smtp-dialog.ts";
import { transaction, type OutboundMessage } from "./smtp-transaction.ts";
import type { Connect, Socket, SocketInfo } from "./socket.ts";
import { certificateResultType, negotiated, PLAINTEXT, type SessionTls } from "./tls-outcome.ts";
import { checkChain, type CertificateTools, type Tlsa } from "./dane.ts";
import { errorText } from "../core/log.ts";

export interface SmtpTarget {
  /** Address to connect to (an IP or a name). */
  hostname: string;
  port: number;
  /** Name the certificate must carry, when it differs from hostname (an MX name). */
  tlsName?: string;
  tls: "implicit" | "starttls-required" | "starttls-opportunistic" | "none";
  verifyTls: boolean;
  auth?: { username: string; password: string };
  /** Allow AUTH without TLS (only when a route says so). */
  allowPlaintextAuth?: boolean;
  /** A provider relay: its refusals of our account (auth, rate, quota) are temporary, never bounces (classify.ts). */
  relay: boolean;
  /** DANE (RFC 7672 §3): the certificate is verified by these TLSA records and names instead of WebPKI. */
  dane?: { records: Tlsa[]; names: string[] };
}


export interface ClientOptions {
  ehloName: string;
  timeouts?: Partial<typeof DEFAULT_TIMEOUTS>;
  /** Certificate parsing for DANE targets (absent: a DANE target cannot be authenticated). */
  certificates?: CertificateTools;
}

// RFC 5321 §4.5.3.2 suggests minutes; shorter keeps a stuck upstream from holding a worker.
const DEFAULT_TIMEOUTS: DialogTimeouts = { greeting: 60_000, command: 60_000, dataBlock: 180_000, dataFinal: 300_000 };

export interface SessionResult {
  /** Set when the whole session failed before recipients were answered (try another host). */
  sessionFailure: { outcome: Exclude<Outcome, "delivered">; reply: Reply; stage: Stage; tls?: SessionTls } | null;
  results: RecipientResult[];
  /** What the session had of TLS, when it got as far as deciding (tls-outcome.ts). */
  tls?: SessionTls;
}

type Failure = NonNullable<SessionResult["sessionFailure"]>;

function failureFrom(err: unknown, target: SmtpTarget): Failure {
  if (err instanceof SessionFailed) return { outcome: err.outcome, reply: err.reply, stage: err.stage, ...(err.tls ? { tls: err.tls } : {}) };
  const timeout = err instanceof UpstreamError && /timeout/.test(err.message);
  return {
    outcome: "transient",
    reply: upstreamReplies.unreachable(timeout, `${target.hostname}:${target.port}: ${errorText(err)}`),
    stage: err instanceof UpstreamError ? err.stage : "connect",
  };
}

// A session that failed before MAIL (connect, greeting, TLS, AUTH) is about the route.
export const failedAll = (m: OutboundMessage, f: Failure, relay = false): SessionResult => {
  const scope: Scope = f.stage === "connect" ? "route" : classifyReply(f.reply, f.stage, { relay }).scope;
  return {
    sessionFailure: f,
    results: m.recipients.map((x) => ({ address: x.address, outcome: f.outcome, reply: f.reply, scope, stage: f.stage })),
    ...(f.tls ? { tls: f.tls } : {}),
  };
};

/**
 * The handshake after STARTTLS: its failure (a certificate for another name, untrusted,
 * expired) is a TLS failure, 4.7.5 with the RFC 8460 §4.3.1 type, not an unreachable host.
 */
async function handshake(socket: Socket, target: SmtpTarget): Promise<SocketInfo> {
  try {
    return await socket.opened;
  } catch (err) {
    const why = errorText(err);
    const resultType = certificateResultType(err);
    throw new SessionFailed("transient", upstreamReplies.tlsFailed(`TLS with ${target.tlsName ?? target.hostname} failed (${resultType}): ${why}`), "STARTTLS", { ...PLAINTEXT, resultType, detail: why });
  }
}

/**
 * RFC 7672 §3: a DANE host is authenticated by its TLSA records, not by WebPKI; when they
 * do not match, the session ends before MAIL (4.7.5 with the RFC 8460 type): nothing is sent.
 */
function daneAuthenticated(info: SocketInfo, target: SmtpTarget, dane: NonNullable<SmtpTarget["dane"]>, tools: CertificateTools | undefined): SessionTls {
  const base = negotiated(info, false);
  const check = tools
    ? checkChain(info.tls?.chain ?? [], dane.records, dane.names, tools, Date.now())
    : ({ ok: false, resultType: "validation-failure", reason: "no certificate parser for DANE on this runtime" } as const);
  if (check.ok) return { ...base, level: "verified", resultType: null };
  const tls: SessionTls = { ...base, level: "opportunistic", resultType: check.resultType, detail: check.reason };
  throw new SessionFailed("transient", upstreamReplies.tlsFailed(`DANE: TLS with ${target.tlsName ?? target.hostname} failed (${check.resultType}): ${check.reason}`), "STARTTLS", tls);
}

/**
 * An open, greeted (and where asked, TLS-protected and authenticated) session with one
 * upstream, ready for messages one after another: connection reuse for busy routes.
 */
export class UpstreamConnection {
  /** Messages sent over this connection. */
  uses = 0;
  /** An I/O failure happened: the connection must not be used again. */
  broken = false;
  private dirty = false;

  private constructor(private socket: Socket, private dialog: Dialog, readonly target: SmtpTarget, readonly tls: SessionTls) {
    // An idle connection the server drops is no longer usable.
    void socket.closed.then(() => (this.broken = true), () => (this.broken = true));
  }

  /** Connects, greets, STARTTLS and AUTH as the target asks; a failure says why. */
  static async open(connect: Connect, target: SmtpTarget, options: ClientOptions): Promise<UpstreamConnection | Failure> {
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    let socket: Socket | null = null;
    try {
      socket = connect(
        { hostname: target.hostname, port: target.port },
        {
          secureTransport: target.tls === "implicit" ? "on" : target.tls === "none" ? "off" : "starttls",
          tlsVerify: target.verifyTls,
          tlsServerName: target.tlsName,
        },
      );
      const info = await socket.opened;
      let dialog = new Dialog(socket, timeouts);
      failIfNot(await dialog.reader.read(timeouts.greeting, "greeting"), 2, "greeting", target.relay);
      await hello(dialog, options.ehloName, target.relay);
      let secure = target.tls === "implicit";
      let tls = secure ? negotiated(info, target.verifyTls) : PLAINTEXT;
      if ((target.tls === "starttls-required" || target.tls === "starttls-opportunistic") && dialog.extensions.has("STARTTLS")) {
        failIfNot(await dialog.command("STARTTLS", "STARTTLS"), 2, "STARTTLS", target.relay);
        dialog.release();
        socket = socket.startTls({ expectedServerHostname: target.tlsName ?? target.hostname });
        const secured = await handshake(socket, target);
        tls = target.dane ? daneAuthenticated(secured, target, target.dane, options.certificates) : negotiated(secured, target.verifyTls);
        dialog = new Dialog(socket, timeouts);
        secure = true;
        await hello(dialog, options.ehloName, target.relay);
      } else if (target.tls === "starttls-required") {
        throw new SessionFailed("transient", upstreamReplies.noStartTls, "STARTTLS", { ...PLAINTEXT, resultType: "starttls-not-supported" });
      } else if (target.tls === "starttls-opportunistic") {
        tls = { ...PLAINTEXT, resultType: "starttls-not-supported" };
      }
      if (target.auth) {
        if (!secure && !target.allowPlaintextAuth) {
          throw new SessionFailed("transient", upstreamReplies.plaintextAuth, "AUTH");
        }
        await authenticate(dialog, target.auth, target.relay);
      }
      return new UpstreamConnection(socket, dialog, target, tls);
    } catch (err) {
      await socket?.close().catch(() => {});
      return failureFrom(err, target);
    }
  }

  /** Sends one message. Never throws: failures become per-recipient outcomes. */
  async send(m: OutboundMessage): Promise<SessionResult> {
    this.uses++;
    try {
      if (this.dirty) {
        // The last transaction ended early (refused MAIL or every RCPT): start clean.
        failIfNot(await this.dialog.command("RSET", "RSET"), 2, "RSET", this.target.relay);
        this.dirty = false;
      }
      if (m.smtputf8 && !this.dialog.extensions.has("SMTPUTF8")) {
        // RFC 6531 §3.2: a message that needs SMTPUTF8 cannot go to a server without it.
        return failedAll(m, { outcome: "permanent", reply: upstreamReplies.noSmtputf8, stage: "MAIL", tls: this.tls });
      }
      const { results, completed } = await transaction(this.dialog, m, this.target.relay);
      this.dirty = !completed;
      return { sessionFailure: null, results, tls: this.tls };
    } catch (err) {
      // RFC 5321 §3.8: 421 means the server is closing the channel.
      if (!(err instanceof SessionFailed) || err.reply.code === 421) this.broken = true;
      else this.dirty = true;
      return failedAll(m, { ...failureFrom(err, this.target), tls: this.tls }, this.target.relay);
    }
  }

  /** QUIT (briefly), then close. */
  async close(): Promise<void> {
    if (!this.broken) await Promise.race([this.dialog.command("QUIT", "QUIT").catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
    await this.socket.close().catch(() => {});
  }
}

/** Sends one message to one host over a new connection. Never throws. */
export async function sendMessage(connect: Connect, target: SmtpTarget, m: OutboundMessage, options: ClientOptions): Promise<SessionResult> {
  const conn = await UpstreamConnection.open(connect, target, options);
  if (!(conn instanceof UpstreamConnection)) return failedAll(m, conn, target.relay);
  try {
    return await conn.send(m);
  } finally {
    await conn.close();
  }
}
