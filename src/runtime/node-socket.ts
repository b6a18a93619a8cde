/**
 * `connect()` with the cloudflare:sockets interface on node:net + node:tls (works on Bun,
 * Node and Deno). Certificate checks stay on unless a caller opts out for opportunistic
 * TLS; extra trusted CAs (for private relays) can be given.
 */
import { isIP, connect as netConnect, type Socket as NetSocket } from "node:net";
import { connect as tlsConnect, rootCertificates, type TLSSocket } from "node:tls";
import type { Connect, Socket, SocketAddress, SocketInfo, SocketOptions } from "../delivery/socket.ts";

export interface NodeConnectOptions {
  /** Extra trusted CA certificates (PEM), added to the system roots. */
  ca?: string[];
  connectTimeoutMs?: number;
}

function wrap(raw: NetSocket | TLSSocket, opened: Promise<SocketInfo>, options: SocketOptions, node: NodeConnectOptions, address: SocketAddress): Socket {
  let upgraded = false;
  const closed = new Promise<void>((resolve) => raw.once("close", () => resolve()));
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      raw.on("data", (chunk: Buffer) => {
        if (upgraded) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
        if ((controller.desiredSize ?? 1) <= 0) raw.pause();
      });
      raw.once("end", () => {
        if (!upgraded) controller.close();
      });
      raw.once("error", (err) => {
        if (!upgraded) controller.error(err);
      });
    },
    pull() {
      raw.resume();
    },
    cancel() {
      raw.destroy();
    },
  });
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      return new Promise((resolve, reject) => raw.write(chunk, (err) => (err ? reject(err) : resolve())));
    },
    close() {
      return new Promise((resolve) => raw.end(() => resolve()));
    },
    abort() {
      raw.destroy();
    },
  });
  return {
    readable,
    writable,
    opened,
    closed,
    async close() {
      raw.destroy();
      await closed;
    },
    startTls(opts) {
      if (options.secureTransport !== "starttls") throw new Error("startTls() needs secureTransport: 'starttls'");
      upgraded = true;
      raw.removeAllListeners("data");
      const servername = opts?.expectedServerHostname ?? options.tlsServerName ?? address.hostname;
      const secure = tlsConnect({
        socket: raw,
        servername: sniName(servername),
        host: servername,
        rejectUnauthorized: options.tlsVerify !== false,
        ca: node.ca && node.ca.length > 0 ? [...rootCertificates, ...node.ca] : undefined,
      });
      const secureOpened = new Promise<SocketInfo>((resolve, reject) => {
        secure.once("secureConnect", () => resolve({ remoteAddress: raw.remoteAddress, tls: tlsInfo(secure) }));
        secure.once("error", reject);
      });
      secureOpened.catch(() => {});
      return wrap(secure, secureOpened, { ...options, secureTransport: "on" }, node, address);
    },
  };
}

/** What the handshake negotiated; `authorized` is computed even when not enforced. */
function tlsInfo(s: TLSSocket): NonNullable<SocketInfo["tls"]> {
  const error = s.authorizationError as unknown;
  return {
    protocol: s.getProtocol() ?? null,
    cipher: s.getCipher()?.standardName ?? s.getCipher()?.name ?? null,
    authorized: s.authorized,
    ...(error ? { authorizationError: typeof error === "string" ? error : String((error as { code?: string }).code ?? error) } : {}),
    chain: peerChain(s),
  };
}

/** The server's certificates, DER, leaf first: each issuer until the chain ends or repeats. */
function peerChain(s: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  const seen = new Set<unknown>();
  let cert = s.getPeerCertificate(true) as { raw?: Buffer; issuerCertificate?: unknown } | undefined;
  while (cert?.raw && !seen.has(cert) && chain.length < 10) {
    seen.add(cert);
    chain.push(new Uint8Array(cert.raw));
    cert = cert.issuerCertificate as typeof cert;
  }
  return chain;
}

/** The TLS server name to send: RFC 6066 §3 allows host names only, never address literals. */
export const sniName = (h: string): string | undefined => (isIP(h) !== 0 ? undefined : h);

export function createNodeConnect(node: NodeConnectOptions = {}): Connect {
  return (address, options = {}) => {
    const servername = options.tlsServerName ?? address.hostname;
    const raw =
      options.secureTransport === "on"
        ? tlsConnect({
            host: address.hostname,
            port: address.port,
            servername: sniName(servername),
            rejectUnauthorized: options.tlsVerify !== false,
            ca: node.ca && node.ca.length > 0 ? [...rootCertificates, ...node.ca] : undefined,
          })
        : netConnect({ host: address.hostname, port: address.port });
    raw.setNoDelay(true);
    const timeout = node.connectTimeoutMs ?? 30_000;
    const opened = new Promise<SocketInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        raw.destroy();
        reject(new Error(`connection to ${address.hostname}:${address.port} timed out`));
      }, timeout);
      raw.once(options.secureTransport === "on" ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        resolve({ remoteAddress: raw.remoteAddress, localAddress: raw.localAddress, ...(options.secureTransport === "on" ? { tls: tlsInfo(raw as TLSSocket) } : {}) });
      });
      raw.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    opened.catch(() => {});
    return wrap(raw, opened, options, node, address);
  };
}
