/**
 * SMTP listeners on Bun.listen: STARTTLS-capable ones and implicit TLS ones (RFC 8314),
 * with a global and a per-address connection limit.
 */
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import type { ListenAddress } from "../config.ts";
import { formatReply, replies } from "../core/reply.ts";
import { listenError } from "./bind-error.ts";
import type { SmtpSession } from "../smtp/session.ts";
import type { SessionConfig } from "../smtp/session-types.ts";
import { Connection, normalizeAddress, type ConnectionOptions, type ConnectionState } from "./connection.ts";

export interface IngressOptions extends Omit<ConnectionOptions, "session"> {
  /** STARTTLS is offered exactly when a certificate is loaded: set here, nowhere else. */
  session: Omit<SessionConfig, "tlsAvailable">;
  smtp: ListenAddress[];
  smtps: ListenAddress[];
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** The setting a bind error names (SMARTHOST_SMTP_LISTEN unless told). */
  smtpVariable?: string;
}

export interface Ingress {
  /** Bound addresses, in the order configured. */
  smtp: ListenAddress[];
  smtps: ListenAddress[];
  close(): Promise<void>;
}

export async function startIngress(opts: IngressOptions): Promise<Ingress> {
  const connOpts: ConnectionOptions = { ...opts, session: { ...opts.session, tlsAvailable: opts.certificate !== null } };
  const sessions = new Set<SmtpSession>();
  const perIp = new Map<string, number>();
  let total = 0;

  /** Counts a connection from its first moment; null when a limit is reached. */
  function reserve(ip: string): (() => void) | null {
    const fromIp = perIp.get(ip) ?? 0;
    if (total >= opts.maxConnections || fromIp >= opts.maxConnectionsPerIp) {
      opts.log("connection_refused", { remote: ip, total, fromIp });
      return null;
    }
    total++;
    perIp.set(ip, fromIp + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      total--;
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n <= 0) perIp.delete(ip);
      else perIp.set(ip, n);
    };
  }

  function startSession(socket: Socket<ConnectionState>, implicitTls: boolean, release: () => void): void {
    const conn: Connection = new Connection(socket, implicitTls, connOpts, handlers, () => {
      release();
      sessions.delete(conn.session);
    });
    sessions.add(conn.session);
  }

  /** Implicit TLS that never completes its handshake: release its place. */
  function dropPending(s: Socket<ConnectionState>): void {
    const p = s.data?.pending;
    if (!p) return;
    s.data.pending = null;
    clearTimeout(p.timer);
    p.release();
  }

  const handlers: SocketHandler<ConnectionState> = {
    data: (s, d) => s.data?.conn?.onData(s, d),
    drain: (s) => s.data?.conn?.onDrain(),
    close: (s) => s.data?.conn?.onClose(),
    error: (s) => s.data?.conn?.onClose(),
    handshake: (s, ok, err) => s.data?.conn?.onHandshake(s, ok, err),
  };
  const plainHandlers: SocketHandler<ConnectionState> = {
    ...handlers,
    open: (s) => {
      const ip = normalizeAddress(s.remoteAddress);
      const release = reserve(ip);
      if (release) return startSession(s, false, release);
      s.data = { conn: null };
      s.write(formatReply(total >= opts.maxConnections ? replies.tooManyConnections : replies.tooManyConnectionsFromIp));
      s.end();
    },
  };
  // Implicit TLS (RFC 8314): the connection counts, and its handshake is timed, from the
  // first moment; the session starts once the handshake is done and its parameters known.
  // Past a limit the socket is closed at once: no plaintext reply can reach a TLS client,
  // and a handshake is the costly part.
  const tlsHandlers: SocketHandler<ConnectionState> = {
    ...handlers,
    open: (s) => {
      const ip = normalizeAddress(s.remoteAddress);
      const release = reserve(ip);
      if (!release) {
        s.data = { conn: null };
        s.terminate();
        return;
      }
      const timer = setTimeout(() => {
        opts.log("tls_handshake_timeout", { remote: ip });
        s.terminate();
      }, opts.commandDeadlineMs);
      s.data = { conn: null, pending: { release, timer } };
    },
    handshake: (s, ok) => {
      if (s.data?.conn) return;
      const p = s.data?.pending;
      if (!p) return;
      if (!ok) return void s.end();
      s.data.pending = null;
      clearTimeout(p.timer);
      startSession(s, true, p.release);
    },
    close: (s) => (s.data?.conn ? s.data.conn.onClose() : dropPending(s)),
    error: (s) => (s.data?.conn ? s.data.conn.onClose() : dropPending(s)),
  };

  const listeners: TCPSocketListener<ConnectionState>[] = [];
  const bound = (l: TCPSocketListener<ConnectionState>, at: ListenAddress): ListenAddress => {
    listeners.push(l);
    return { host: at.host, port: l.port };
  };
  const listen = (at: ListenAddress, variable: string, make: () => TCPSocketListener<ConnectionState>): ListenAddress => {
    try {
      return bound(make(), at);
    } catch (err) {
      throw listenError(err, at, variable);
    }
  };
  try {
    const smtp = opts.smtp.map((at) =>
      listen(at, opts.smtpVariable ?? "SMARTHOST_SMTP_LISTEN", () => Bun.listen<ConnectionState>({ hostname: at.host, port: at.port, data: { conn: null }, socket: plainHandlers })),
    );
    const cert = opts.certificate;
    const smtps = cert
      ? opts.smtps.map((at) =>
          listen(at, "SMARTHOST_SMTPS_LISTEN", () =>
            Bun.listen<ConnectionState>({ hostname: at.host, port: at.port, data: { conn: null }, tls: { cert: cert.cert, key: cert.key }, socket: tlsHandlers }),
          ),
        )
      : [];
    return {
      smtp,
      smtps,
      async close() {
        for (const l of listeners) l.stop(false);
        for (const session of sessions) session.shutdown();
        const deadline = Date.now() + 3000;
        while (sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        for (const l of listeners) l.stop(true);
      },
    };
  } catch (err) {
    for (const l of listeners) l.stop(true);
    throw err;
  }
}
