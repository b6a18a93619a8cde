/**
 * A webhook receiver on loopback (Bun.serve): keeps every request with its headers and
 * body, answers as the test says (200 unless told otherwise), and can be started on a
 * given port again after a stop (an endpoint that was down comes back).
 */
export interface ReceivedHook {
  headers: Record<string, string>;
  body: string;
  path: string;
}

export interface Receiver {
  port: number;
  url: string;
  received: ReceivedHook[];
  /** The answer to the next requests; returns [status, headers?]. */
  respond: (hook: ReceivedHook) => [number, Record<string, string>?];
  stop(): Promise<void>;
}

export function startReceiver(port = 0, respond?: Receiver["respond"]): Receiver {
  const r: Receiver = {
    port: 0,
    url: "",
    received: [],
    respond: respond ?? (() => [200]),
    stop: async () => {},
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(req) {
      const hook = { headers: Object.fromEntries(req.headers.entries()), body: await req.text(), path: new URL(req.url).pathname };
      r.received.push(hook);
      const [status, headers] = r.respond(hook);
      return new Response(status === 200 ? "ok" : `status ${status}`, { status, headers });
    },
  });
  r.port = server.port!;
  r.url = `http://127.0.0.1:${r.port}/hook`;
  r.stop = async () => {
    await server.stop(true);
  };
  return r;
}
