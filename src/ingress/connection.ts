/**
 * One SMTP connection on a Bun socket, wired to an SmtpSession. Input is read only as
 * fast as the session consumes it (the socket is paused while the session waits on the
 * gateway); output that the client does not read is capped, so a client that never reads
 * its replies is cut off with bounded memory. STARTTLS upgrades the same socket
 * (`upgradeTLS`); the plaintext side then only sees ciphertext, which is ignored.
 */
import type { Socket, SocketHandler } from "bun";
import type { SubmissionHandler, TlsInfo } from "../smtp/handler.ts";
import { Deadlines } from "../smtp/deadlines.ts";
import { SmtpSession } from "../smtp/session.ts";
import type { Logger } from "../core/log.ts";
import type { SessionConfig } from "../smtp/session-types.ts";
import type { CertificatePair } from "./certificate.ts";

// Replies waiting for a client that does not read them; past this the client is dropped.
const MAX_PENDING_OUTPUT = 256 * 1024;
// Unconsumed input held for a session that is waiting on the gateway, before reading stops.
const MAX_BUFFERED_INPUT = 64 * 1024;
// A client that does not close its side after our final reply is cut after this.
const CLOSE_GRACE_MS = 2000;
// While the session waits on the gateway no client deadline runs; look again after this.
const BUSY_RECHECK_MS = 1000;

export interface ConnectionOptions {
  session: SessionConfig;
  handler: SubmissionHandler;
  certificate: CertificatePair | null;
  idleTimeoutMs: number;
  /** A command line or a TLS handshake must be complete within this of its start. */
  commandDeadlineMs: number;
  /** Octets per second of message data; 0: no minimum. */
  minDataRate: number;
  greetDelayMs: number;
  log: Logger;
}

export interface ConnectionState {
  conn: Connection | null;
  /** Implicit TLS before the handshake is done: the connection is already counted and timed. */
  pending?: { release: () => void; timer: ReturnType<typeof setTimeout> } | null;
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
  private readonly deadlines: Deadlines;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private armedAt = Infinity;

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
    this.deadlines = new Deadlines({ idleMs: opts.idleTimeoutMs, commandMs: opts.commandDeadlineMs, minDataRate: opts.minDataRate }, Date.now());
    const peer = {
      remoteAddress: normalizeAddress(socket.remoteAddress),
      remotePort: socket.remotePort,
      localPort: socket.localPort,
      tls: implicitTls ? tlsInfoOf(socket) : null,
    };
    this.session = new SmtpSession(opts.session, opts.handler, this.transport(), peer, opts.log);
    if (opts.greetDelayMs > 0) setTimeout(() => this.closed || this.session.start(), opts.greetDelayMs);
    else this.session.start();
    this.arm();
  }

  /** Input from the socket that currently carries the session. */
  onData(from: Socket<ConnectionState>, data: Uint8Array): void {
    // After STARTTLS the plaintext socket keeps reporting the ciphertext: not ours to read.
    if (from !== this.socket || this.closed) return;
    this.deadlines.input(data.length, this.session.waiting, Date.now());
    // Not copied: Bun hands over every read in a new buffer of its own (plain and TLS), so
    // the session may keep views of it; the message's one copy is its join (dot-decoder.ts).
    const done = this.session.receive(data);
    this.arm();
    void done.then(() => this.arm());
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
    this.deadlines.touch(Date.now());
    // Clients do not present certificates: an authorization error here is about theirs.
    if (ok) h.resolve(tlsInfoOf(s));
    else h.reject(err ?? new Error("TLS handshake failed"));
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.handshake?.reject(new Error("connection closed during TLS handshake"));
    this.onClosed();
  }

  /** Sets the one timer to the earliest deadline (deadlines.ts); it only ever moves earlier here. */
  private arm(): void {
    if (this.closed) return;
    const now = Date.now();
    const waiting = this.session.waiting;
    this.deadlines.observe(waiting, this.session.progress, now);
    const at = this.deadlines.next(waiting)?.at ?? now + BUSY_RECHECK_MS;
    if (this.timer && at >= this.armedAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - now));
  }

  private fire(): void {
    this.timer = null;
    this.armedAt = Infinity;
    if (this.closed || this.session.closed) return;
    const now = Date.now();
    const waiting = this.session.waiting;
    this.deadlines.observe(waiting, this.session.progress, now);
    const next = this.deadlines.next(waiting);
    if (next && next.at <= now) this.session.timeout(next.expiry);
    else this.arm();
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
          this.arm();
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
