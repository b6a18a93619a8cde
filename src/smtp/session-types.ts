/** What a session is configured with and talks through (the ingress provides these). */
import type { TlsInfo } from "./handler.ts";

export interface SessionConfig {
  readonly hostname: string;
  readonly maxMessageBytes: number;
  readonly maxRecipients: number;
  readonly maxErrors: number;
  /** STARTTLS can be offered (a certificate is loaded and the link is not TLS yet). */
  readonly tlsAvailable: boolean;
  readonly allowInsecureAuth: boolean;
  /** False on a listener that takes no submissions (the inbound listener): AUTH is neither offered nor accepted. */
  readonly offerAuth?: boolean;
}

export interface SessionTransport {
  send(text: string): void;
  /** Upgrades the link; resolves once the handshake is done. Plaintext after the call is never delivered. */
  startTls(): Promise<TlsInfo>;
  close(): void;
}

export interface Peer {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly tls: TlsInfo | null;
}


