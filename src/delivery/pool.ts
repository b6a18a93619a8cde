/**
 * Reuse of upstream SMTP connections: after a message, a healthy connection waits a little
 * for the next message to the same upstream instead of being closed (a busy provider relay
 * or MX gets one session for many messages, as Postfix's connection cache does).
 */
import { failedAll, UpstreamConnection, type ClientOptions, type SessionResult, type SmtpTarget } from "./smtp-client.ts";
import type { OutboundMessage } from "./smtp-transaction.ts";
import type { Connect } from "./socket.ts";

interface Idle {
  conn: UpstreamConnection;
  timer: ReturnType<typeof setTimeout>;
}

export class ConnectionPool {
  private readonly idle = new Map<string, Idle[]>();

  constructor(
    private readonly connect: Connect,
    private readonly options: ClientOptions,
    private readonly idleMs = 5_000,
    private readonly maxUses = 100,
  ) {}

  async send(target: SmtpTarget, m: OutboundMessage): Promise<SessionResult> {
    const key = keyOf(target);
    const pooled = this.take(key);
    if (pooled) {
      const result = await pooled.send(m);
      // An idle connection the server has since closed fails at once: try a fresh one.
      const stale = pooled.broken && (result.sessionFailure?.stage === "MAIL" || result.sessionFailure?.stage === "RSET");
      if (!stale) {
        this.giveBack(key, pooled);
        return result;
      }
      await pooled.close();
    }
    const conn = await UpstreamConnection.open(this.connect, target, this.options);
    if (!(conn instanceof UpstreamConnection)) return failedAll(m, conn, target.relay);
    const result = await conn.send(m);
    this.giveBack(key, conn);
    return result;
  }

  async closeAll(): Promise<void> {
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    for (const i of all) clearTimeout(i.timer);
    await Promise.all(all.map((i) => i.conn.close()));
  }

  private take(key: string): UpstreamConnection | null {
    const list = this.idle.get(key);
    const i = list?.pop();
    if (!i) return null;
    if (list!.length === 0) this.idle.delete(key);
    clearTimeout(i.timer);
    return i.conn;
  }

  private giveBack(key: string, conn: UpstreamConnection): void {
    if (conn.broken || conn.uses >= this.maxUses || this.idleMs <= 0) {
      void conn.close();
      return;
    }
    const entry: Idle = {
      conn,
      timer: setTimeout(() => {
        const list = this.idle.get(key);
        const at = list?.indexOf(entry) ?? -1;
        if (at >= 0) list!.splice(at, 1);
        if (list && list.length === 0) this.idle.delete(key);
        void conn.close();
      }, this.idleMs),
    };
    entry.timer.unref?.();
    const list = this.idle.get(key);
    if (list) list.push(entry);
    else this.idle.set(key, [entry]);
  }
}

// A connection authenticated by DANE is reused only while the same TLSA records apply.
const daneKey = (t: SmtpTarget) => t.dane?.records.map((r) => `${r.usage} ${r.selector} ${r.matchingType} ${[...r.data].join(",")}`).join(";") ?? "";
const keyOf = (t: SmtpTarget) => [t.hostname, t.port, t.tls, t.tlsName ?? "", t.verifyTls, t.auth?.username ?? "", t.auth?.password ?? "", daneKey(t)].join("\0");
