/**
 * One SMTP connection on a Bun socket, wired to an SmtpSession. Input is read only as
 * fast as the session consumes it (the socket is paused while the session waits on the
 * gateway); output that the client does not read is capped, so a client that never reads
 * its replies is cut off with bounded memory. STARTTLS upgrades the same socket
 * (`upgradeTLS`); the plaintext side then only sees ciphertext, which is ignored.
 */
import type { Socket, SocketHandler } from "bun";
import type { SubmissionHandler, TlsInfo } from "../smtp/handler.ts";
import { SmtpSession } from "../smtp/session.ts";
import type { Logger, SessionConfig } from "../smtp/session-types.ts";
import type { CertificatePair } from "./certificate.ts";

// Replies waiting for a client that does not read them; past this the client is dropped.
const MAX_PENDING_OUTPUT = 256 * 1024;
// Unconsumed input held for a session that is waiting on the gateway, before reading stops.
const MAX_BUFFERED_INPUT = 64 * 1024;
// A client that does not close its side after our final reply is cut after this.
const CLOSE_GRACE_MS = 2000;

export interface ConnectionOptions {
  session: SessionConfig;
  handler: SubmissionHandler;
  certificate: CertificatePair | null;
  idleTimeoutMs: number;
  greetDelayMs: number;
  log: Logger;
}

export interface ConnectionState {
  conn: Connection | null;
}

/** Strips the IPv4-mapped prefix so limits and logs see one form of an address. */
export function normalizeAddress(addr: string | undefined): string {
  if (!addr) return "unknown";
  return addr.startsWith("::ffff:") ? addr.slice(7) : addr;
}

const tlsInfoOf = (s: Socket<ConnectionState>): TlsInfo => ({
  protocol: s.getTLSVersion() || "TLS",
  cipher: s.getCipher()?.name ?? "unknown",
});

const encoder = new TextEncoder();

export class Connection {
  socket: Socket<ConnectionState>;
  readonly session: SmtpSession;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private ending = false;
  private closed = false;
  private handshake: { resolve: (t: TlsInfo) => void; reject: (e: Error) => void } | null = null;

  constructor(
    socket: Socket<ConnectionState>,
    implicitTls: boolean,
    private readonly opts: ConnectionOptions,
    private readonly handlers: SocketHandler<ConnectionState>,
    readonly onClosed: () => void,
  ) {
    this.socket = socket;
    socket.data = { conn: this };
    socket.setNoDelay(true);
    socket.timeout(Math.ceil(opts.idleTimeoutMs / 1000));
    const peer = {
      remoteAddress: normalizeAddress(socket.remoteAddress),
      remotePort: socket.remotePort,
      localPort: socket.localPort,
      tls: implicitTls ? tlsInfoOf(socket) : null,
    };
    this.session = new SmtpSession(opts.session, opts.handler, this.transport(), peer, opts.log);
    if (opts.greetDelayMs > 0) setTimeout(() => this.closed || this.session.start(), opts.greetDelayMs);
    else this.session.start();
  }

  /** Input from the socket that currently carries the session. */
  onData(from: Socket<ConnectionState>, data: Uint8Array): void {
    // After STARTTLS the plaintext socket keeps reporting the ciphertext: not ours to read.
    if (from !== this.socket || this.closed) return;
    const done = this.session.receive(new Uint8Array(data));
    if (this.session.bufferedBytes > MAX_BUFFERED_INPUT) {
      // Backpressure: no more input until the session has consumed what it holds.
      from.pause();
      void done.then(() => {
        if (!this.closed && from === this.socket) from.resume();
      });
    }
  }

  onDrain(): void {
    while (this.pending.length > 0) {
      const chunk = this.pending[0]!;
      const n = this.socket.write(chunk);
      this.pendingBytes -= n;
      if (n < chunk.length) {
        this.pending[0] = chunk.subarray(n);
        return;
      }
      this.pending.shift();
    }
    if (this.ending) this.socket.end();
  }

  onHandshake(s: Socket<ConnectionState>, ok: boolean, err: Error | null): void {
    if (!this.handshake || s !== this.socket) return;
    const h = this.handshake;
    this.handshake = null;
    // Clients do not present certificates: an authorization error here is about theirs.
    if (ok) h.resolve(tlsInfoOf(s));
    else h.reject(err ?? new Error("TLS handshake failed"));
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.handshake?.reject(new Error("connection closed during TLS handshake"));
    this.onClosed();
  }

  private write(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.pending.length === 0) {
      const n = this.socket.write(bytes);
      if (n === bytes.length) return;
      bytes = bytes.subarray(Math.max(0, n));
    }
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.pendingBytes > MAX_PENDING_OUTPUT) {
      this.opts.log("output_overflow", { session: this.session.sessionId, remote: normalizeAddress(this.socket.remoteAddress) });
      this.socket.terminate();
    }
  }

  private transport() {
    return {
      send: (text: string) => this.write(encoder.encode(text)),
      startTls: (): Promise<TlsInfo> => {
        const cert = this.opts.certificate;
        if (!cert) return Promise.reject(new Error("no TLS certificate"));
        return new Promise<TlsInfo>((resolve, reject) => {
          this.handshake = { resolve, reject };
          const [, secure] = this.socket.upgradeTLS<ConnectionState>({
            tls: { cert: cert.cert, key: cert.key },
            data: { conn: this },
            socket: this.handlers,
          });
          this.socket = secure;
          secure.timeout(Math.ceil(this.opts.idleTimeoutMs / 1000));
        });
      },
      close: () => {
        if (this.closed) return;
        this.ending = true;
        if (this.pending.length === 0) this.socket.end();
        const s = this.socket;
        setTimeout(() => this.closed || s.terminate(), CLOSE_GRACE_MS).unref?.();
      },
    };
  }
}
