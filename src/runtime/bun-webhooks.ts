/** The webhook sender on Bun: node:dns to check each destination's addresses, and a POST pinned to them. */
import { lookup } from "node:dns/promises";
import type { Config } from "../config.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import type { Sql } from "../db/raw.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import type { Logger } from "../core/log.ts";
import { WebhookSender, type WebhookAttemptOutcome } from "../webhooks/sender.ts";
import { webhookSettings } from "../webhooks/settings.ts";
import { pinnedPost } from "./node-webhook-post.ts";

export function createWebhookSender(config: Config, sql: Sql, writer: GroupCommit, log: Logger, secrets: SecretBox, count?: (outcome: WebhookAttemptOutcome) => void): WebhookSender {
  return new WebhookSender({
    count,
    sql,
    writer,
    secrets,
    log,
    config: webhookSettings(config),
    network: {
      resolveHost: async (host) => (await lookup(host, { all: true })).map((a) => a.address),
      post: pinnedPost(),
    },
  });
}
