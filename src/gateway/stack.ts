/** The gateway as every entry builds it (Bun serve, Workers, Deno): policy, SMTP handler, HTTP app. */
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { GroupCommit } from "../queue/group-commit.ts";
import type { Logger } from "../smtp/session-types.ts";
import { createApp } from "./app.ts";
import { Gateway } from "./gateway.ts";
import { createMetrics } from "./metrics.ts";
import { createSmtpHandler } from "./smtp-handler.ts";
import type { SecretBox } from "../secrets/cipher.ts";

export function createGatewayStack(opts: { config: Config; database: Database; writer: GroupCommit; hostname: string; log: Logger; onAccepted?: () => void; secrets?: () => Promise<SecretBox> }) {
  const { config, database, log } = opts;
  const metrics = createMetrics(database.db);
  const gateway = new Gateway({ db: database.db, sql: database.sql, writer: opts.writer, maxMessageBytes: config.SMARTHOST_MAX_MESSAGE_BYTES, metrics, onAccepted: opts.onAccepted });
  const smtpHandler = createSmtpHandler(gateway, log);
  const app = createApp({
    gateway,
    metrics,
    smtpHandler,
    hostname: opts.hostname,
    maxMessageBytes: config.SMARTHOST_MAX_MESSAGE_BYTES,
    gatewayToken: config.SMARTHOST_GATEWAY_TOKEN,
    log,
    webhooks: { secrets: opts.secrets, allowPrivate: config.SMARTHOST_ALLOW_PRIVATE_WEBHOOKS },
  });
  return { gateway, smtpHandler, app };
}
