/** Serves a fetch handler over HTTP with Bun. */
import type { ListenAddress } from "../config.ts";

export interface HttpServer {
  address: ListenAddress;
  close(): Promise<void>;
}

// Bun refuses a larger body itself, with a bare 413; the margin lets the app's own limit
// (the same maxBodyBytes) answer first, with the API's JSON error.
const TRANSPORT_MARGIN = 1024 * 1024;

/**
 * `maxBodyBytes` is the limit the app enforces (httpBodyLimit in config.ts); `fetch` gets the
 * address the request came from (null once its socket is gone).
 */
export function serveHttp(at: ListenAddress, fetch: (req: Request, peer: string | null) => Response | Promise<Response>, maxBodyBytes: number): HttpServer {
  const server = Bun.serve({ hostname: at.host, port: at.port, fetch: (req, bun) => fetch(req, bun.requestIP(req)?.address ?? null), maxRequestBodySize: maxBodyBytes + TRANSPORT_MARGIN });
  return {
    address: { host: at.host, port: server.port ?? at.port },
    close: async () => {
      await server.stop(true);
    },
  };
}
