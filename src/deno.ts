/**
 * The gateway on Deno: `deno run -A src/deno.ts` serves the HTTP API and the ingress
 * handoff with the same Hono app, on an embedded libSQL file or a remote libSQL. Delivery
 * and SMTP ingress run on Bun nodes (see README, "Deployments").
 */
import process from "node:process";
import { createClient } from "@libsql/client";
import { loadConfig } from "./config.ts";
import { databaseFrom, libsqlConfig } from "./db/client.ts";
import { prepareDatabase } from "./runtime/prepare-database.ts";
import { createGatewayStack } from "./stack.ts";
import { GroupCommit } from "./db/group-commit.ts";
import { createLogger } from "./log.ts";
import { secretBoxFromConfig } from "./runtime/secret-key-file.ts";
import { clientEnv } from "./util/client-address.ts";
import { startHostname } from "./runtime/host-name.ts";

declare const Deno: {
  env: { toObject(): Record<string, string> };
  serve(
    options: { hostname: string; port: number; onListen?: (a: { port: number }) => void },
    handler: (req: Request, info: { remoteAddr: { transport: string; hostname?: string } }) => Response | Promise<Response>,
  ): unknown;
};

const config = loadConfig(Deno.env.toObject());
const log = createLogger(config.SMARTHOST_LOG);
if (config.SMARTHOST_HTTP_LISTEN.length === 0) {
  // This node is the HTTP gateway and nothing else: with no address it would serve nothing.
  console.error("error: SMARTHOST_HTTP_LISTEN is empty: the Deno gateway needs at least one host:port");
  process.exit(1);
}
const secrets = await secretBoxFromConfig(config);
const database = databaseFrom(createClient(libsqlConfig(config.SMARTHOST_DB_URL, config.SMARTHOST_DB_AUTH_TOKEN)));
await prepareDatabase(database.client, database.db, secrets, log);
const hostname = await startHostname(config, log);
const { app } = createGatewayStack({ config, database, writer: new GroupCommit(database.sql), hostname, log });
// Every configured address; the listening line names them all once they are bound.
const ports: number[] = [];
for (const at of config.SMARTHOST_HTTP_LISTEN) {
  Deno.serve({
    hostname: at.host,
    port: at.port,
    onListen: ({ port }) => {
      ports.push(port);
      if (ports.length === config.SMARTHOST_HTTP_LISTEN.length) log("listening", { http: ports, mode: "gateway", runtime: "deno" });
    },
  }, (req, info) => app.fetch(req, clientEnv(req, info.remoteAddr.hostname, config.SMARTHOST_TRUSTED_PROXIES)));
}
