/**
 * SMTP listeners (port 25/587-style with STARTTLS, and implicit TLS, RFC 8314) with a
 * global and a per-address connection limit.
 */
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { createSecureContext, createServer as createTlsServer } from "node:tls";
import type { ListenAddress } from "../config.ts";
import type { SmtpSession } from "../smtp/session.ts";
import { formatReply, replies } from "../smtp/reply.ts";
import type { CertificatePair } from "./certificate.ts";
import { normalizeAddress, serveConnection, type ConnectionOptions } from "./connection.ts";

export interface IngressOptions extends Omit<ConnectionOptions, "secureContext"> {
  smtp: ListenAddress[];
  smtps: ListenAddress[];
  certificate: CertificatePair | null;
  maxConnections: number;
  maxConnectionsPerIp: number;
}

export interface Ingress {
  /** Bound addresses, in the order configured: STARTTLS listeners then implicit TLS. */
  smtp: ListenAddress[];
  smtps: ListenAddress[];
  close(): Promise<void>;
}

export async function startIngress(opts: IngressOptions): Promise<Ingress> {
  const secureContext = opts.certificate ? createSecureContext({ cert: opts.certificate.cert, key: opts.certificate.key }) : null;
  const connOpts: ConnectionOptions = {
    ...opts,
    session: { ...opts.session, tlsAvailable: secureContext !== null },
    secureContext,
  };
  const sessions = new Set<SmtpSession>();
  const perIp = new Map<string, number>();
  let total = 0;

  function admit(socket: Socket, implicitTls: boolean): void {
    const ip = normalizeAddress(socket.remoteAddress);
    const fromIp = perIp.get(ip) ?? 0;
    if (total >= opts.maxConnections || fromIp >= opts.maxConnectionsPerIp) {
      const r = total >= opts.maxConnections ? replies.tooManyConnections : replies.tooManyConnectionsFromIp;
      socket.on("error", () => socket.destroy());
      socket.end(formatReply(r));
      opts.log("connection_refused", { remote: ip, total, fromIp });
      return;
    }
    total++;
    perIp.set(ip, fromIp + 1);
    const session = serveConnection(socket, implicitTls, connOpts);
    sessions.add(session);
    socket.once("close", () => {
      total--;
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n <= 0) perIp.delete(ip);
      else perIp.set(ip, n);
      sessions.delete(session);
    });
  }

  const servers: Server[] = [];
  const bound = async (server: Server, at: ListenAddress): Promise<ListenAddress> => {
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(at.port, at.host, () => resolve());
    });
    const addr = server.address();
    return { host: at.host, port: typeof addr === "object" && addr ? addr.port : at.port };
  };

  const smtp: ListenAddress[] = [];
  const smtps: ListenAddress[] = [];
  try {
    for (const at of opts.smtp) {
      smtp.push(await bound(createTcpServer({ noDelay: true }, (s) => admit(s, false)), at));
    }
    if (secureContext) {
      for (const at of opts.smtps) {
        // Bun's TLS server takes the PEMs, not a SecureContext.
        const { cert, key } = opts.certificate!;
        const server = createTlsServer({ cert, key, handshakeTimeout: opts.idleTimeoutMs }, (s) => admit(s, true));
        server.on("tlsClientError", () => {});
        smtps.push(await bound(server, at));
      }
    }
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }

  return {
    smtp,
    smtps,
    async close() {
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const session of sessions) session.shutdown();
      await Promise.all(closed);
    },
  };
}
