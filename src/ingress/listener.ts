/**
 * SMTP listeners on Bun.listen: STARTTLS-capable ones and implicit TLS ones (RFC 8314),
 * with a global and a per-address connection limit.
 */
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import type { ListenAddress } from "../config.ts";
import { formatReply, replies } from "../smtp/reply.ts";
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

  function admit(socket: Socket<ConnectionState>, implicitTls: boolean): void {
    const ip = normalizeAddress(socket.remoteAddress);
    const fromIp = perIp.get(ip) ?? 0;
    if (total >= opts.maxConnections || fromIp >= opts.maxConnectionsPerIp) {
      const r = total >= opts.maxConnections ? replies.tooManyConnections : replies.tooManyConnectionsFromIp;
      socket.data = { conn: null };
      socket.write(formatReply(r));
      socket.end();
      opts.log("connection_refused", { remote: ip, total, fromIp });
      return;
    }
    total++;
    perIp.set(ip, fromIp + 1);
    const conn: Connection = new Connection(socket, implicitTls, connOpts, handlers, () => {
      total--;
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n <= 0) perIp.delete(ip);
      else perIp.set(ip, n);
      sessions.delete(conn.session);
    });
    sessions.add(conn.session);
  }

  const handlers: SocketHandler<ConnectionState> = {
    data: (s, d) => s.data?.conn?.onData(s, d),
    drain: (s) => s.data?.conn?.onDrain(),
    close: (s) => s.data?.conn?.onClose(),
    error: (s) => s.data?.conn?.onClose(),
    timeout: (s) => s.data?.conn?.session.timeout(),
    handshake: (s, ok, err) => s.data?.conn?.onHandshake(s, ok, err),
  };
  const plainHandlers: SocketHandler<ConnectionState> = { ...handlers, open: (s) => admit(s, false) };
  // Implicit TLS: the session starts once the handshake is done and its parameters known.
  const tlsHandlers: SocketHandler<ConnectionState> = {
    ...handlers,
    open: (s) => {
      s.data = { conn: null };
    },
    handshake: (s, ok) => {
      if (s.data?.conn) return;
      if (ok) admit(s, true);
      else s.end();
    },
  };

  const listeners: TCPSocketListener<ConnectionState>[] = [];
  const bound = (l: TCPSocketListener<ConnectionState>, at: ListenAddress): ListenAddress => {
    listeners.push(l);
    return { host: at.host, port: l.port };
  };
  try {
    const smtp = opts.smtp.map((at) =>
      bound(Bun.listen<ConnectionState>({ hostname: at.host, port: at.port, data: { conn: null }, socket: plainHandlers }), at),
    );
    const cert = opts.certificate;
    const smtps = cert
      ? opts.smtps.map((at) =>
          bound(Bun.listen<ConnectionState>({ hostname: at.host, port: at.port, data: { conn: null }, tls: { cert: cert.cert, key: cert.key }, socket: tlsHandlers }), at),
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
