/**
 * The gateway on Deno: `deno run -A src/deno.ts` serves the HTTP API and the ingress
 * handoff with the same Hono app, on an embedded libSQL file or a remote libSQL. Delivery
 * and SMTP ingress run on Bun nodes (see README, "Deployments").
 */
import { createClient } from "@libsql/client";
import { loadConfig } from "./config.ts";
import { databaseFrom } from "./db/client.ts";
import { applyMigrations } from "./db/migrate.ts";
import { createGatewayStack } from "./gateway/stack.ts";
import { GroupCommit } from "./queue/group-commit.ts";
import { createLogger } from "./log.ts";

declare const Deno: {
  env: { toObject(): Record<string, string> };
  serve(options: { hostname: string; port: number; onListen?: (a: { port: number }) => void }, handler: (req: Request) => Response | Promise<Response>): unknown;
};

const config = loadConfig(Deno.env.toObject());
const log = createLogger(config.SMARTHOST_LOG);
const database = databaseFrom(createClient({ url: config.SMARTHOST_DB_URL, authToken: config.SMARTHOST_DB_AUTH_TOKEN }));
await applyMigrations(database.client);
const { app } = createGatewayStack({ config, database, writer: new GroupCommit(database.sql), hostname: config.SMARTHOST_HOSTNAME || "smarthost", log });
const at = config.SMARTHOST_HTTP_LISTEN[0] ?? { host: "127.0.0.1", port: 8787 };
Deno.serve({ hostname: at.host, port: at.port, onListen: ({ port }) => log("listening", { http: [port], mode: "gateway", runtime: "deno" }) }, app.fetch);
