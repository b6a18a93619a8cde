/**
 * Two HTTP(S) servers on one port of two loopback addresses: 127.0.0.2 (the address a
 * webhook's name was checked at) and 127.0.0.1 (what "localhost", or a rebound name,
 * answers later). Each keeps the requests it got; a connection pinned to the checked
 * address must reach the first only.
 */
export interface PairRequest {
  path: string;
  host: string;
  body: string;
}

export interface ServerPair {
  port: number;
  checked: PairRequest[];
  rebound: PairRequest[];
  stop(): Promise<void>;
}

type Tls = { cert: string; key: string };

function serve(hostname: string, port: number, name: string, got: PairRequest[], tls?: Tls) {
  return Bun.serve({
    hostname,
    port,
    ...(tls ? { tls } : {}),
    async fetch(req) {
      got.push({ path: new URL(req.url).pathname, host: req.headers.get("host") ?? "", body: await req.text() });
      return new Response(name);
    },
  });
}

export async function startPair(tls?: Tls): Promise<ServerPair> {
  const checked: PairRequest[] = [];
  const rebound: PairRequest[] = [];
  // The port is free on 127.0.0.2; it may be taken on 127.0.0.1 by something else: try again.
  for (let tries = 0; ; tries++) {
    const a = serve("127.0.0.2", 0, "checked", checked, tls);
    try {
      const b = serve("127.0.0.1", a.port!, "rebound", rebound, tls);
      return {
        port: a.port!,
        checked,
        rebound,
        stop: async () => {
          await Promise.all([a.stop(true), b.stop(true)]);
        },
      };
    } catch (err) {
      await a.stop(true);
      if (tries >= 10) throw err;
    }
  }
}
