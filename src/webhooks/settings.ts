/** The webhook sender's settings from the configuration: one mapping for every runtime. */
import type { Config } from "../config.ts";
import type { WebhookSenderConfig } from "./sender.ts";

export function webhookSettings(config: Config): WebhookSenderConfig {
  return {
    allowPrivate: config.SMARTHOST_ALLOW_PRIVATE_WEBHOOKS,
    retrySeconds: config.SMARTHOST_WEBHOOK_RETRY_SECONDS,
    pollMs: config.SMARTHOST_DELIVERY_POLL_MS,
    retentionMs: config.SMARTHOST_RETENTION_SECONDS * 1000,
  };
}
