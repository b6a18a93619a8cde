/**
 * A TCP proxy on loopback that puts a database "in the next region": every chunk, in both
 * directions, is passed on `delayMs` after it arrived (5 ms each way = 10 ms round trip).
 * Chunks keep their order but do not wait behind one another: each is due at its own
 * arrival + delay. This kernel has no netem, hence a proxy.
 *
 * It also counts the HTTP/1.1 requests the client sends (sqld speaks Hrana over HTTP, with
 * keep-alive): requests are framed by their head and Content-Length or chunked body, so a
 * bench row can report database requests per message.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface DelayProxy {
  /** `http://127.0.0.1:PORT`: give it to the client in place of the server's URL. */
  url: string;
  port: number;
  /** HTTP requests framed since the start or the last reset. */
  requests(): number;
  /** The same, by request line without its query ("POST /v3/pipeline"). */
  byRequest(): Record<string, number>;
  reset(): void;
  stop(): Promise<void>;
}

/**
 * Passes chunks on to `write` once each is due, in arrival order, and ends with `end` after
 * the last one (a close travels with the same delay as the data before it). One timer per
 * direction, armed for the oldest chunk; everything due when it fires goes at once.
 */
function delayedPipe(delayMs: number, write: (b: Buffer) => void, end: () => void): { push(b: Buffer | null): void; stop(): void } {
  const pass = (b: Buffer | null) => (b ? write(b) : end());
  if (delayMs <= 0) return { push: pass, stop() {} };
  const queue: { due: number; data: Buffer | null }[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const drain = () => {
    timer = null;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.due <= now + 0.2) pass(queue.shift()!.data);
    if (queue.length > 0) timer = setTimeout(drain, Math.max(0, queue[0]!.due - now));
  };
  return {
    push(data) {
      queue.push({ due: performance.now() + delayMs, data });
      if (!timer) timer = setTimeout(drain, delayMs);
    },
    stop() {
      if (timer) clearTimeout(timer);
      queue.length = 0;
    },
  };
}

/**
 * HTTP/1.1 request framing, enough to count: a head up to CRLFCRLF, then a body of
 * Content-Length bytes or chunked (RFC 9112 §6.3, §7.1). Calls `onRequest` with the request
 * line at each head.
 */
export function requestFramer(onRequest: (line: string) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  let state: "head" | "body" | "chunk-size" | "chunk-data" | "trailer" = "head";
  let remaining = 0;
  return (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      if (state === "body" || state === "chunk-data") {
        const take = Math.min(remaining, buf.length);
        buf = buf.subarray(take);
        remaining -= take;
        if (remaining > 0) return;
        state = state === "body" ? "head" : "chunk-size";
        continue;
      }
      const end = buf.indexOf(state === "head" ? "\r\n\r\n" : "\r\n");
      if (end < 0) return;
      const text = buf.subarray(0, end).toString("latin1");
      buf = buf.subarray(end + (state === "head" ? 4 : 2));
      if (state === "head") {
        const [line = "", ...headers] = text.split("\r\n");
        onRequest(line.replace(/\?\S*/, "").replace(/ HTTP\/1\.[01]$/, ""));
        const header = (name: string) => headers.find((h) => h.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim().toLowerCase();
        if (header("transfer-encoding")?.includes("chunked")) state = "chunk-size";
        else {
          remaining = Number(header("content-length") ?? 0);
          state = remaining > 0 ? "body" : "head";
        }
      } else if (state === "chunk-size") {
        // chunk-data is followed by its own CRLF: count it with the data.
        const size = parseInt(text.split(";")[0]!, 16);
        if (size === 0) state = "trailer";
        else {
          remaining = size + 2;
          state = "chunk-data";
        }
      } else if (text === "") state = "head"; // the empty line ending the trailer section
    }
  };
}

export async function startDelayProxy(target: { host?: string; port: number }, delayMs: number): Promise<DelayProxy> {
  const counts = new Map<string, number>();
  let total = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    const upstream = createConnection({ host: target.host ?? "127.0.0.1", port: target.port, noDelay: true, allowHalfOpen: true });
    sockets.add(client).add(upstream);
    const frame = requestFramer((line) => {
      total++;
      counts.set(line, (counts.get(line) ?? 0) + 1);
    });
    // Held until the server's side is connected: nothing is written to a socket still connecting.
    let connected = false;
    const early: (Buffer | null)[] = [];
    upstream.once("connect", () => {
      connected = true;
      for (const b of early.splice(0)) b ? upstream.write(b) : upstream.end();
    });
    const up = delayedPipe(delayMs, (b) => (connected ? upstream.write(b) : early.push(b)), () => (connected ? upstream.end() : early.push(null)));
    const down = delayedPipe(delayMs, (b) => client.write(b), () => client.end());
    client.on("data", (b: Buffer) => {
      frame(b);
      up.push(b);
    });
    upstream.on("data", (b: Buffer) => down.push(b));
    client.on("end", () => up.push(null));
    upstream.on("end", () => down.push(null));
    for (const s of [client, upstream]) {
      s.on("error", () => {
        up.stop();
        down.stop();
        client.destroy();
        upstream.destroy();
      });
      s.on("close", () => sockets.delete(s));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: () => total,
    byRequest: () => Object.fromEntries(counts),
    reset() {
      total = 0;
      counts.clear();
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
