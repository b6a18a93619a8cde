/**
 * DNS queries sent as they are (node:dgram, node:net) to the resolvers the operator named,
 * for DANE: node:dns does not say whether an answer was validated (the AD bit). UDP first,
 * TCP when the answer is truncated (RFC 7766 §5); each server in turn until one answers.
 */
import { createSocket } from "node:dgram";
import { isIP, connect } from "node:net";
import type { DnsExchange } from "../delivery/dane-lookup.ts";
import { Failure } from "../core/failure.ts";

interface Server {
  host: string;
  port: number;
}

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address; port 53 when none is given. */
export function parseServer(s: string): Server {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(s);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 53) };
  if (isIP(s) === 6) return { host: s, port: 53 };
  const [host, port] = s.split(":");
  return { host: host!, port: Number(port ?? 53) };
}

const truncated = (m: Uint8Array) => m.length >= 4 && (m[2]! & 0x02) !== 0;

function overUdp(server: Server, query: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIP(server.host) === 6 ? "udp6" : "udp4");
    const done = (err: Error | null, answer?: Uint8Array) => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(answer!);
    };
    const timer = setTimeout(() => done(new Error(`DNS query to ${server.host}:${server.port} timed out`)), timeoutMs);
    socket.on("error", (err) => done(err));
    // Only an answer to this query (same id) counts; anything else is ignored.
    socket.on("message", (msg) => {
      if (msg.length >= 2 && msg[0] === query[0] && msg[1] === query[1]) done(null, new Uint8Array(msg));
    });
    socket.send(query, server.port, server.host, (err) => err && done(err));
  });
}

function overTcp(server: Server, query: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server.host, port: server.port });
    let buffered = Buffer.alloc(0);
    const done = (err: Error | null, answer?: Uint8Array) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(answer!);
    };
    const timer = setTimeout(() => done(new Error(`DNS query to ${server.host}:${server.port} over TCP timed out`)), timeoutMs);
    socket.on("error", (err) => done(err));
    socket.on("connect", () => {
      // RFC 1035 §4.2.2: each message preceded by its two-octet length.
      socket.write(Buffer.concat([Buffer.from([query.length >> 8, query.length & 0xff]), query]));
    });
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const length = buffered.length >= 2 ? buffered.readUInt16BE(0) : -1;
      if (length >= 0 && buffered.length >= 2 + length) done(null, new Uint8Array(buffered.subarray(2, 2 + length)));
    });
    socket.on("end", () => done(new Error(`DNS server ${server.host}:${server.port} closed the connection`)));
  });
}

export function createDnsExchange(servers: string[], timeoutMs = 5000): DnsExchange {
  const parsed = servers.map(parseServer);
  if (parsed.length === 0) throw new Failure("config", "DNS queries for DANE need SMARTHOST_DNS_SERVERS");
  return async (query) => {
    let last: unknown;
    for (const server of parsed) {
      try {
        const answer = await overUdp(server, query, timeoutMs);
        return truncated(answer) ? await overTcp(server, query, timeoutMs) : answer;
      } catch (err) {
        last = err;
      }
    }
    throw new Failure("temporary", "no DNS server answered", { code: "dns_unreachable", cause: last });
  };
}
