/**
 * The Workers entry: `fetch` is the gateway (HTTP API and the ingress handoff), `scheduled`
 * (cron) and each accept (`waitUntil`) run deliveries through provider-relay routes over
 * `cloudflare:sockets`. Direct-MX work is left to Bun egress nodes: Workers cannot open
 * port 25. The database is a remote libSQL (Turso or sqld) shared with the Bun nodes.
 */
import { connect } from "cloudflare:sockets";
import { createClient } from "@libsql/client/web";
import { hostnameFromUrl, loadConfig, type Config } from "./config.ts";
import { databaseFrom, libsqlConfig, type Database } from "./db/client.ts";
import { DeliveryWorker } from "./delivery/worker.ts";
import { deliverySettings } from "./delivery/settings.ts";
import { secretBoxFromRequiredKey } from "./secrets/cipher.ts";
import { createGatewayStack } from "./stack.ts";
import { GroupCommit } from "./db/group-commit.ts";
import type { Connect } from "./delivery/socket.ts";
import type { Resolver } from "./delivery/mx.ts";
import { WebhookSender } from "./webhooks/sender.ts";
import { webhookSettings } from "./webhooks/settings.ts";
import { useArgon2Module } from "./policy/passwords.ts";
import { argon2Module } from "./runtime/workers-argon2.ts";
import { clientEnv } from "./util/client-address.ts";
import { errorFields } from "./core/log.ts";
import { shareLoadsAcrossCallers } from "./util/cached.ts";

type Env = Record<string, string | undefined>;

interface Ctx {
  waitUntil(p: Promise<unknown>): void;
}

interface Isolate {
  config: Config;
  database: Database;
  app: ReturnType<typeof createGatewayStack>["app"];
  /** Rejects (with why) when SMARTHOST_SECRET_KEY is missing: no delivery without the key. */
  delivery: Promise<DeliveryWorker>;
  /** Signs with WebCrypto HMAC and sends over fetch; no DNS here, and Workers reach no private network. */
  webhooks: Promise<WebhookSender>;
}

// Bindings arrive with each request: the gateway is built on first use and kept for the isolate.
let isolate: Isolate | null = null;

const log = (event: string, fields: Record<string, unknown>) => console.log(JSON.stringify({ event, ...fields }));

// MX lookups never happen here (relay routes only); a resolver that says so.
const noResolver: Resolver = {
  resolveMx: () => Promise.reject(Object.assign(new Error("no MX lookups on Workers"), { code: "ESERVFAIL" })),
  resolve4: () => Promise.reject(Object.assign(new Error("no lookups on Workers"), { code: "ESERVFAIL" })),
  resolve6: () => Promise.reject(Object.assign(new Error("no lookups on Workers"), { code: "ESERVFAIL" })),
};

/** The relay's name (config.ts `hostnameFromUrl`), with one log line when it is not configured. */
function workerHostname(config: Config, requestUrl: string): string {
  if (config.SMARTHOST_HOSTNAME) return config.SMARTHOST_HOSTNAME;
  const name = hostnameFromUrl(config, requestUrl);
  log("hostname_warning", { hostname: name, problem: "SMARTHOST_HOSTNAME is not set", hint: "set SMARTHOST_HOSTNAME to this relay's fully qualified name" });
  return name;
}

function build(env: Env, requestUrl: string): Isolate {
  // SMTP AUTH's argon2id on the bundled WebAssembly module, not in plain JavaScript.
  useArgon2Module(argon2Module);
  shareLoadsAcrossCallers(false);
  const config = loadConfig(env);
  // No cap on requests in flight: the client's queue would make one request wait for a slot
  // another request's fetch frees, and workerd cancels a request waiting on another's I/O as hung.
  const database = databaseFrom(createClient({ ...libsqlConfig(config.SMARTHOST_DB_URL, config.SMARTHOST_DB_AUTH_TOKEN), concurrency: Infinity }));
  // No group commit across requests: each request drives its own transactions.
  const writer = new GroupCommit(database.sql, { batching: false });
  const hostname = workerHostname(config, requestUrl);
  const secretBox = secretBoxFromRequiredKey(config.SMARTHOST_SECRET_KEY, "on Workers");
  secretBox.catch(() => {});
  const { app, metrics } = createGatewayStack({ config, database, writer, hostname, log, secrets: config.SMARTHOST_SECRET_KEY ? secretBox : undefined });
  const delivery = secretBox.then(
    (secrets) =>
      new DeliveryWorker({
        db: database.db,
        sql: database.sql,
        writer,
        connect: connect as unknown as Connect,
        resolver: noResolver,
        log,
        secrets,
        // This isolate's /metrics: what its passes delivered.
        observer: metrics,
        config: {
          ...deliverySettings(config, hostname),
          allowPrivateMx: false,
          // Workers allow 6 open connections per invocation.
          concurrency: 5,
          perDestination: 5,
          relayOnly: true,
          reuseConnections: false,
        },
      }),
  );
  delivery.catch(() => {});
  const webhooks = secretBox.then((secrets) => new WebhookSender({ sql: database.sql, writer, secrets, log, config: webhookSettings(config), count: (outcome) => metrics.webhookAttempt(outcome) }));
  webhooks.catch(() => {});
  return { config, database, app, delivery, webhooks };
}

// The routes that commit a new message.
const ACCEPTS = /^\/(v1\/messages(\/raw)?|internal\/smtp\/accept)$/;

// Webhooks after the mail: one transaction at a time per invocation, and the events this pass recorded go out in it.
// One pass at a time per isolate: a request never waits on another's deliveries (workerd
// cancels a request waiting on another's I/O as hung). An accept during a pass asks it for
// one more round, run within the first request's waitUntil; rounds go on while they find
// work (a burst leaves more than one round can lease), for as long as waitUntil is given
// (30 s after the response): what is left then waits for the next accept or the cron.
const ROUNDS_FOR_MS = 20_000;
let passing = false;
let again = false;
const deliver = async (i: Isolate) => {
  if (passing) {
    again = true;
    return;
  }
  passing = true;
  const until = Date.now() + ROUNDS_FOR_MS;
  try {
    let worked = 0;
    do {
      again = false;
      worked = await pass(i);
    } while ((again || worked > 0) && Date.now() < until);
  } finally {
    passing = false;
  }
};
/** Returns how much it found to do: groups delivered and webhook deliveries sent. */
const pass = async (i: Isolate): Promise<number> => {
  const mail = await i.delivery.then((d) => d.drainOnce()).catch((err) => (log("delivery_error", { error: errorFields(err) }), 0));
  const hooks = await i.webhooks.then((w) => w.drainOnce()).catch((err) => (log("webhook_error", { error: errorFields(err) }), 0));
  return mail + hooks;
};

export default {
  async fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
    isolate ??= build(env, request.url);
    // Cloudflare sets CF-Connecting-IP to the address that connected to it, replacing any
    // the client sent; past trusted proxies of our own, X-Forwarded-For as elsewhere.
    const response = await isolate.app.fetch(request, clientEnv(request, request.headers.get("cf-connecting-ip"), isolate.config.SMARTHOST_TRUSTED_PROXIES));
    // Deliver right after an accept, within this invocation's lifetime.
    if (request.method === "POST" && ACCEPTS.test(new URL(request.url).pathname) && response.ok) ctx.waitUntil(deliver(isolate));
    return response;
  },
  async scheduled(_event: unknown, env: Env, ctx: Ctx): Promise<void> {
    // No request to learn the name from: SMARTHOST_HOSTNAME, else "localhost" (and the warning).
    isolate ??= build(env, "http://localhost/");
    ctx.waitUntil(deliver(isolate));
  },
};
