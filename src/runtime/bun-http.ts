/** Serves a fetch handler over HTTP with Bun. */
import type { ListenAddress } from "../config.ts";

export interface HttpServer {
  address: ListenAddress;
  close(): Promise<void>;
}

export function serveHttp(at: ListenAddress, fetch: (req: Request) => Response | Promise<Response>, maxBodyBytes: number): HttpServer {
  const server = Bun.serve({ hostname: at.host, port: at.port, fetch, maxRequestBodySize: maxBodyBytes });
  return {
    address: { host: at.host, port: server.port ?? at.port },
    close: async () => {
      await server.stop(true);
    },
  };
}
