/**
 * Webhook POSTs on Bun and Node, pinned to the addresses the sender has just checked.
 * `fetch` would resolve the name again, and a name can answer a public address to the
 * check and 127.0.0.1 to the connection (DNS rebinding). node:http(s) takes a `lookup`:
 * ours answers the checked addresses, so nothing else is ever connected to, while the
 * URL's host name is still the TLS server name and what the certificate is verified
 * against. The connected peer is compared with those addresses too before the body goes.
 */
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction, type Socket } from "node:net";
import { Readable } from "node:stream";
import ipaddr from "ipaddr.js";
import type { PinnedPost } from "../webhooks/sender.ts";

export interface PinnedPostOptions {
  /** Certificates (PEM) trusted in place of the system's: for tests with their own CA. */
  ca?: string;
}

export class PeerNotCheckedError extends Error {
  readonly code = "ERR_PEER_NOT_CHECKED";
}

// Statuses whose answers have no body (RFC 9110 §15.3.5, §15.3.6, §15.4.5).
const NO_BODY = new Set([204, 205, 304]);

const family = (address: string) => (isIP(address) === 6 ? 6 : 4);
const canonical = (address: string) => (ipaddr.isValid(address) ? ipaddr.process(address).toString() : address);

function pinnedLookup(addresses: readonly string[]): LookupFunction {
  return (_host, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => family(a) === options.family) : addresses;
    const list = wanted.length > 0 ? wanted : addresses;
    if (options.all) return (callback as (err: null, all: { address: string; family: number }[]) => void)(null, list.map((address) => ({ address, family: family(address) })));
    callback(null, list[0]!, family(list[0]!));
  };
}

export function pinnedPost(options: PinnedPostOptions = {}): PinnedPost {
  return (url, init, addresses) =>
    new Promise<Response>((resolve, reject) => {
      if (addresses.length === 0) return reject(new Error("no checked address to connect to"));
      const checked = new Set(addresses.map(canonical));
      const u = new URL(url);
      const body = Buffer.from(init.body);
      const request = u.protocol === "https:" ? https.request : http.request;
      // A fresh connection each time (agent: false): a pooled one was checked for another attempt.
      const req = request(u, {
        method: init.method,
        headers: { ...init.headers, "content-length": String(body.byteLength) },
        agent: false,
        lookup: pinnedLookup(addresses),
        ...(options.ca ? { ca: options.ca } : {}),
      });
      const abort = () => req.destroy(init.signal.reason as Error);
      if (init.signal.aborted) return abort(), reject(init.signal.reason);
      init.signal.addEventListener("abort", abort, { once: true });
      const sendBody = (socket: Socket) => {
        const peer = socket.remoteAddress;
        if (!peer || !checked.has(canonical(peer))) return req.destroy(new PeerNotCheckedError("connected to an address that was not checked"));
        req.end(body);
      };
      req.on("socket", (socket: Socket) => {
        if (socket.connecting) socket.once("connect", () => sendBody(socket));
        else sendBody(socket);
      });
      req.on("error", (err) => {
        init.signal.removeEventListener("abort", abort);
        reject(init.signal.aborted ? init.signal.reason : err);
      });
      req.on("response", (res: http.IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 599) {
          res.destroy();
          return reject(new Error(`answered with status ${status}`));
        }
        // The deadline covers reading the answer as well, as it does for fetch.
        init.signal.addEventListener("abort", () => res.destroy(init.signal.reason as Error), { once: true });
        const headers = new Headers();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        const stream = NO_BODY.has(status) ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        if (!stream) res.resume();
        resolve(new Response(stream, { status, headers }));
      });
    });
}
