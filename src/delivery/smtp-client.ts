/**
 * The relay's SMTP client over an injected `connect` (cloudflare:sockets shape): sends
 * stored raw bytes with its own envelope and reports one reply per recipient. Every read
 * and write has a deadline; a closed connection is an error, never a hang.
 */
import { encodeBase64Text } from "../smtp/sasl.ts";
import { upstreamReplies, type Reply } from "../smtp/reply.ts";
import { classifyReply, type Outcome, type Stage } from "./classify.ts";
import { encodeData, hasEightBit as containsNonAscii } from "./encode.ts";
import { ReplyReader, UpstreamError, withDeadline } from "./reply-reader.ts";
import type { Connect, Socket } from "./socket.ts";

export type { Outcome, Stage } from "./classify.ts";

export interface RecipientResult {
  address: string;
  outcome: Outcome;
  reply: Reply;
}

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
}

export interface OutboundMessage {
  /** "" for the null reverse-path. */
  mailFrom: string;
  recipients: { address: string; notify?: string | null; orcpt?: string | null }[];
  raw: Uint8Array;
  smtputf8: boolean;
  envid?: string | null;
  ret?: string | null;
}

export interface ClientOptions {
  ehloName: string;
  timeouts?: Partial<typeof DEFAULT_TIMEOUTS>;
}

// RFC 5321 §4.5.3.2 suggests minutes; shorter keeps a stuck upstream from holding a worker.
const DEFAULT_TIMEOUTS = { greeting: 60_000, command: 60_000, dataBlock: 180_000, dataFinal: 300_000 };

export interface SessionResult {
  /** Set when the whole session failed before recipients were answered (try another host). */
  sessionFailure: { outcome: Exclude<Outcome, "delivered">; reply: Reply; stage: Stage } | null;
  results: RecipientResult[];
}

class Dialog {
  readonly reader: ReplyReader;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly timeouts: typeof DEFAULT_TIMEOUTS;
  extensions = new Map<string, string>();

  constructor(socket: Socket, timeouts: typeof DEFAULT_TIMEOUTS) {
    this.reader = new ReplyReader(socket.readable);
    this.writer = socket.writable.getWriter();
    this.timeouts = timeouts;
  }

  async write(data: string | Uint8Array, timeoutMs: number, stage: Stage): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    try {
      await withDeadline(this.writer.write(bytes), timeoutMs, "writing", stage);
    } catch (err) {
      throw err instanceof UpstreamError ? err : new UpstreamError(`write failed during ${stage}: ${(err as Error).message ?? String(err)}`, stage);
    }
  }

  async command(line: string, stage: Stage): Promise<Reply> {
    await this.write(`${line}\r\n`, this.timeouts.command, stage);
    return this.reader.read(this.timeouts.command, stage);
  }

  release(): void {
    this.reader.release();
    this.writer.releaseLock();
  }
}

class SessionFailed extends Error {
  constructor(readonly outcome: Exclude<Outcome, "delivered">, readonly reply: Reply, readonly stage: Stage) {
    super(reply.lines.join(" "));
  }
}

function failIfNot(r: Reply, expected: number, stage: Stage, relay: boolean): void {
  if (Math.floor(r.code / 100) === expected) return;
  const { outcome } = classifyReply(r, stage, { relay });
  // An unexpected 2xx/3xx (a 250 where 354 was due) is a broken dialog: try again later.
  throw new SessionFailed(outcome === "delivered" ? "transient" : outcome, r, stage);
}

async function hello(d: Dialog, name: string, relay: boolean): Promise<void> {
  let r = await d.command(`EHLO ${name}`, "EHLO");
  if (r.code >= 500) {
    r = await d.command(`HELO ${name}`, "HELO");
    d.extensions = new Map();
  } else {
    d.extensions = new Map(r.lines.slice(1).map((l) => {
      const [k = "", ...v] = l.split(" ");
      return [k.toUpperCase(), v.join(" ")] as [string, string];
    }));
  }
  failIfNot(r, 2, "EHLO", relay);
}

async function authenticate(d: Dialog, auth: { username: string; password: string }, relay: boolean): Promise<void> {
  const mechs = (d.extensions.get("AUTH") ?? "").toUpperCase().split(/\s+/);
  if (mechs.includes("PLAIN")) {
    const r = await d.command(`AUTH PLAIN ${encodeBase64Text(`\0${auth.username}\0${auth.password}`)}`, "AUTH");
    return failIfNot(r, 2, "AUTH", relay);
  }
  if (mechs.includes("LOGIN")) {
    failIfNot(await d.command("AUTH LOGIN", "AUTH"), 3, "AUTH", relay);
    failIfNot(await d.command(encodeBase64Text(auth.username), "AUTH"), 3, "AUTH", relay);
    return failIfNot(await d.command(encodeBase64Text(auth.password), "AUTH"), 2, "AUTH", relay);
  }
  throw new SessionFailed("transient", upstreamReplies.noAuthMechanism, "AUTH");
}

function mailCommand(d: Dialog, m: OutboundMessage): string {
  const params: string[] = [`SIZE=${m.raw.length}`];
  if (d.extensions.has("8BITMIME") && containsNonAscii(m.raw)) params.push("BODY=8BITMIME");
  if (m.smtputf8) params.push("SMTPUTF8");
  if (d.extensions.has("DSN")) {
    if (m.ret) params.push(`RET=${m.ret}`);
    if (m.envid) params.push(`ENVID=${m.envid}`);
  }
  if (!d.extensions.has("SIZE")) params.shift();
  return `MAIL FROM:<${m.mailFrom}>${params.length ? ` ${params.join(" ")}` : ""}`;
}

function rcptCommand(d: Dialog, r: OutboundMessage["recipients"][number]): string {
  const params: string[] = [];
  if (d.extensions.has("DSN")) {
    if (r.notify) params.push(`NOTIFY=${r.notify}`);
    if (r.orcpt) params.push(`ORCPT=${r.orcpt}`);
  }
  return `RCPT TO:<${r.address}>${params.length ? ` ${params.join(" ")}` : ""}`;
}

type Failure = NonNullable<SessionResult["sessionFailure"]>;

function failureFrom(err: unknown, target: SmtpTarget): Failure {
  if (err instanceof SessionFailed) return { outcome: err.outcome, reply: err.reply, stage: err.stage };
  const timeout = err instanceof UpstreamError && /timeout/.test(err.message);
  return {
    outcome: "transient",
    reply: upstreamReplies.unreachable(timeout, `${target.hostname}:${target.port}: ${(err as Error).message ?? String(err)}`),
    stage: err instanceof UpstreamError ? err.stage : "connect",
  };
}

export const failedAll = (m: OutboundMessage, f: Failure): SessionResult => ({
  sessionFailure: f,
  results: m.recipients.map((x) => ({ address: x.address, outcome: f.outcome, reply: f.reply })),
});

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

  private constructor(private socket: Socket, private dialog: Dialog, readonly target: SmtpTarget) {
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
      await socket.opened;
      let dialog = new Dialog(socket, timeouts);
      failIfNot(await dialog.reader.read(timeouts.greeting, "greeting"), 2, "greeting", target.relay);
      await hello(dialog, options.ehloName, target.relay);
      let secure = target.tls === "implicit";
      if ((target.tls === "starttls-required" || target.tls === "starttls-opportunistic") && dialog.extensions.has("STARTTLS")) {
        failIfNot(await dialog.command("STARTTLS", "STARTTLS"), 2, "STARTTLS", target.relay);
        dialog.release();
        socket = socket.startTls({ expectedServerHostname: target.tlsName ?? target.hostname });
        await socket.opened;
        dialog = new Dialog(socket, timeouts);
        secure = true;
        await hello(dialog, options.ehloName, target.relay);
      } else if (target.tls === "starttls-required") {
        throw new SessionFailed("transient", upstreamReplies.noStartTls, "STARTTLS");
      }
      if (target.auth) {
        if (!secure && !target.allowPlaintextAuth) {
          throw new SessionFailed("transient", upstreamReplies.plaintextAuth, "AUTH");
        }
        await authenticate(dialog, target.auth, target.relay);
      }
      return new UpstreamConnection(socket, dialog, target);
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
        return failedAll(m, { outcome: "permanent", reply: upstreamReplies.noSmtputf8, stage: "MAIL" });
      }
      const { results, completed } = await transaction(this.dialog, m, this.target.relay);
      this.dirty = !completed;
      return { sessionFailure: null, results };
    } catch (err) {
      // RFC 5321 §3.8: 421 means the server is closing the channel.
      if (!(err instanceof SessionFailed) || err.reply.code === 421) this.broken = true;
      else this.dirty = true;
      return failedAll(m, failureFrom(err, this.target));
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
  if (!(conn instanceof UpstreamConnection)) return failedAll(m, conn);
  try {
    return await conn.send(m);
  } finally {
    await conn.close();
  }
}

/** MAIL, RCPT…, DATA — pipelined when the server offers PIPELINING (RFC 2920). */
async function transaction(d: Dialog, m: OutboundMessage, relay: boolean): Promise<{ results: RecipientResult[]; completed: boolean }> {
  const mail = mailCommand(d, m);
  const rcpts = m.recipients.map((r) => rcptCommand(d, r));
  let mailReply: Reply;
  const rcptReplies: Reply[] = [];
  let dataReply: Reply | null = null;
  if (d.extensions.has("PIPELINING")) {
    await d.write(`${[mail, ...rcpts, "DATA"].join("\r\n")}\r\n`, d.timeouts.command, "MAIL");
    mailReply = await d.reader.read(d.timeouts.command, "MAIL");
    for (let i = 0; i < rcpts.length; i++) rcptReplies.push(await d.reader.read(d.timeouts.command, "RCPT"));
    dataReply = await d.reader.read(d.timeouts.command, "DATA");
  } else {
    mailReply = await d.command(mail, "MAIL");
    if (mailReply.code < 400) for (const r of rcpts) rcptReplies.push(await d.command(r, "RCPT"));
  }
  failIfNot(mailReply, 2, "MAIL", relay);
  const results: RecipientResult[] = m.recipients.map((r, i) => ({
    address: r.address,
    outcome: classifyReply(rcptReplies[i]!, "RCPT", { relay }).outcome,
    reply: rcptReplies[i]!,
  }));
  if (!rcptReplies.some((r) => r.code < 400)) {
    // With PIPELINING a server may still have said 354 to DATA: end that empty message.
    if (dataReply?.code === 354) await d.command(".", "DATA");
    return { results, completed: false };
  }
  dataReply ??= await d.command("DATA", "DATA");
  if (dataReply.code !== 354) return { results: settle(results, dataReply, "DATA", relay), completed: false };
  await d.write(encodeData(m.raw), d.timeouts.dataBlock, "end of DATA");
  return { results: settle(results, await d.reader.read(d.timeouts.dataFinal, "end of DATA"), "end of DATA", relay), completed: true };
}

/** The final reply decides every recipient RCPT accepted. */
function settle(results: RecipientResult[], final: Reply, stage: Stage, relay: boolean): RecipientResult[] {
  let { outcome } = classifyReply(final, stage, { relay });
  // Only 354 answers DATA and only 2xx ends it (RFC 5321 §4.3.2): anything else is no acceptance.
  if (outcome === "delivered" && (stage === "DATA" || final.code >= 300)) outcome = "transient";
  return results.map((r) => (r.outcome === "delivered" ? { ...r, outcome, reply: final } : r));
}
