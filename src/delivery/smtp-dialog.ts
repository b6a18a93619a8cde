/**
 * The command/reply exchange with one upstream (smtp-client.ts): writes and reads under
 * deadlines, EHLO with its extensions, and AUTH. A reply that ends the session is thrown
 * as SessionFailed, carrying how the recipients fare.
 */
import { encodeBase64Text } from "../smtp/sasl.ts";
import { upstreamReplies, type Reply } from "../core/reply.ts";
import { type Outcome, type Stage } from "../core/delivery-result.ts";
import { classifyReply } from "./classify.ts";
import { ReplyReader, UpstreamError, withDeadline } from "./reply-reader.ts";
import type { Socket } from "./socket.ts";
import type { SessionTls } from "./tls-outcome.ts";
import { errorText } from "../core/log.ts";

export interface DialogTimeouts {
  greeting: number;
  command: number;
  dataBlock: number;
  dataFinal: number;
}

export class Dialog {
  readonly reader: ReplyReader;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly timeouts: DialogTimeouts;
  extensions = new Map<string, string>();

  constructor(socket: Socket, timeouts: DialogTimeouts) {
    this.reader = new ReplyReader(socket.readable);
    this.writer = socket.writable.getWriter();
    this.timeouts = timeouts;
  }

  async write(data: string | Uint8Array, timeoutMs: number, stage: Stage): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    try {
      await withDeadline(this.writer.write(bytes), timeoutMs, "writing", stage);
    } catch (err) {
      throw err instanceof UpstreamError ? err : new UpstreamError(`write failed during ${stage}: ${errorText(err)}`, stage, err);
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

export class SessionFailed extends Error {
  constructor(readonly outcome: Exclude<Outcome, "delivered">, readonly reply: Reply, readonly stage: Stage, readonly tls?: SessionTls) {
    super(reply.lines.join(" "));
  }
}

export function failIfNot(r: Reply, expected: number, stage: Stage, relay: boolean): void {
  if (Math.floor(r.code / 100) === expected) return;
  const { outcome } = classifyReply(r, stage, { relay });
  // An unexpected 2xx/3xx (a 250 where 354 was due) is a broken dialog: try again later.
  throw new SessionFailed(outcome === "delivered" ? "transient" : outcome, r, stage);
}

export async function hello(d: Dialog, name: string, relay: boolean): Promise<void> {
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

export async function authenticate(d: Dialog, auth: { username: string; password: string }, relay: boolean): Promise<void> {
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
