/**
 * One SMTP connection: a socket wired to an SmtpSession. Input is read only as fast as the
 * session consumes it; output is capped, so a client that never reads its replies is cut
 * off with bounded memory. STARTTLS wraps the same socket in a server TLSSocket.
 */
import type { Socket } from "node:net";
import { TLSSocket, type SecureContext } from "node:tls";
import type { SubmissionHandler, TlsInfo } from "../smtp/handler.ts";
import { SmtpSession, type Logger, type SessionConfig } from "../smtp/session.ts";

// Replies waiting for a client that does not read them; past this the client is dropped.
const MAX_PENDING_OUTPUT = 256 * 1024;

export interface ConnectionOptions {
  session: SessionConfig;
  handler: SubmissionHandler;
  secureContext: SecureContext | null;
  idleTimeoutMs: number;
  greetDelayMs: number;
  log: Logger;
}

export function tlsInfoOf(socket: TLSSocket): TlsInfo {
  return { protocol: socket.getProtocol() ?? "TLS", cipher: socket.getCipher()?.name ?? "unknown" };
}

/** Strips the IPv4-mapped prefix so limits and logs see one form of an address. */
export function normalizeAddress(addr: string | undefined): string {
  if (!addr) return "unknown";
  return addr.startsWith("::ffff:") ? addr.slice(7) : addr;
}

export function serveConnection(socket: Socket, implicitTls: boolean, opts: ConnectionOptions): SmtpSession {
  let current: Socket = socket;

  const transport = {
    send(text: string): void {
      if (current.destroyed) return;
      current.write(text);
      if (current.writableLength > MAX_PENDING_OUTPUT) {
        opts.log("output_overflow", { session: session.sessionId, remote: peer.remoteAddress });
        current.destroy();
      }
    },
    startTls(): Promise<TlsInfo> {
      if (!opts.secureContext) return Promise.reject(new Error("no TLS certificate"));
      // From here on the plaintext socket delivers nothing to the session.
      socket.removeListener("data", onData);
      return new Promise((resolve, reject) => {
        const secure = new TLSSocket(socket, { isServer: true, secureContext: opts.secureContext! });
        secure.once("secure", () => {
          current = secure;
          wire(secure);
          resolve(tlsInfoOf(secure));
        });
        secure.once("error", reject);
        secure.on("error", () => secure.destroy());
      });
    },
    close(): void {
      current.end();
      // A client that does not close its side in time is cut.
      setTimeout(() => current.destroy(), 2000).unref();
    },
  };

  const peer = {
    remoteAddress: normalizeAddress(socket.remoteAddress),
    remotePort: socket.remotePort ?? 0,
    localPort: socket.localPort ?? 0,
    tls: implicitTls ? tlsInfoOf(socket as TLSSocket) : null,
  };
  const session = new SmtpSession(opts.session, opts.handler, transport, peer, opts.log);

  function onData(chunk: Buffer): void {
    const from = current;
    const done = session.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    // Backpressure: no more input until this is consumed.
    from.pause();
    done.then(() => {
      if (from === current && !from.destroyed) from.resume();
    });
  }

  function wire(s: Socket): void {
    s.setNoDelay(true);
    s.setTimeout(opts.idleTimeoutMs, () => session.timeout());
    s.on("data", onData);
  }

  socket.on("error", () => socket.destroy());
  wire(socket);
  if (opts.greetDelayMs > 0) {
    const t = setTimeout(() => session.start(), opts.greetDelayMs);
    socket.once("close", () => clearTimeout(t));
  } else session.start();
  return session;
}
