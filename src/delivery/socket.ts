/**
 * The outbound socket interface: the shape of Cloudflare's `cloudflare:sockets` `connect`,
 * so delivery code is the same on every runtime. On Workers the real module is passed in;
 * on Bun/Node/Deno an adapter in src/runtime/ provides it.
 */
export interface SocketAddress {
  hostname: string;
  port: number;
}

export interface SocketOptions {
  secureTransport?: "off" | "on" | "starttls";
  allowHalfOpen?: boolean;
  /**
   * Not in the Workers API (which always verifies): false allows an unverified certificate,
   * for opportunistic STARTTLS to MX hosts (RFC 7435), as other MTAs do. Default true.
   */
  tlsVerify?: boolean;
  /** Name to verify the certificate against (and send as SNI) when it differs from hostname. */
  tlsServerName?: string;
}

export interface SocketInfo {
  remoteAddress?: string;
  localAddress?: string;
  /**
   * Not in the Workers API: after a TLS handshake, what was negotiated and whether the
   * certificate checked out for the name (also when the check was not enforced).
   */
  tls?: {
    protocol: string | null;
    cipher: string | null;
    authorized: boolean;
    authorizationError?: string;
    /** The certificates the server presented, DER, leaf first (for DANE, RFC 7672 §3). */
    chain?: Uint8Array[];
  };
}

export interface Socket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly opened: Promise<SocketInfo>;
  readonly closed: Promise<void>;
  close(): Promise<void>;
  /** Only on sockets opened with secureTransport "starttls". */
  startTls(options?: { expectedServerHostname?: string }): Socket;
}

export type Connect = (address: SocketAddress, options?: SocketOptions) => Socket;
