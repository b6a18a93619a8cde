/**
 * The gateway as every entry builds it (Bun serve, Workers, Deno): policy, SMTP handler, and
 * the HTTP app with the dashboard mounted beside the API (the composition root of the HTTP side).
 */
import type { Config } from "./config.ts";
import { REMOTE_READ_CACHE_MS, type Database } from "./db/client.ts";
import type { GroupCommit } from "./db/group-commit.ts";
import type { Handoff } from "./queue/handoff.ts";
import type { Logger } from "./core/log.ts";
import { dashboardRoutes } from "./dashboard/routes.ts";
import { createApp } from "./gateway/app.ts";
import { Gateway } from "./gateway/gateway.ts";
import { createMetrics, timeSmtpAccepts } from "./gateway/metrics.ts";
import { createSmtpHandler } from "./gateway/smtp-handler.ts";
import { createSecretBox, type SecretBox } from "./secrets/cipher.ts";
import { createDkimSigner } from "./dkim/signer.ts";
import type { SignaturePool } from "./dkim/sign-jobs.ts";
import { txtLookup, type DnsResolve } from "./domain-check/dns.ts";
import { fetchPolicyText } from "./domain-check/check.ts";
import { createSpfVerdicts } from "./domain-check/spf-verdict.ts";
import { UNSUBSCRIBE_MAC_PURPOSE, type TokenMac } from "./suppression/unsubscribe-token.ts";
import { reportSettings } from "./tlsrpt/settings.ts";
import type { DaneProbe } from "./domain-check/dane.ts";

export function createGatewayStack(opts: { config: Config; database: Database; writer: GroupCommit; hostname: string; log: Logger; onAccepted?: () => void; handoff?: Handoff; secrets?: SecretBox | Promise<SecretBox>; dns?: DnsResolve; dkimPool?: SignaturePool; dane?: DaneProbe }) {
  const { config, database, log } = opts;
  const metrics = createMetrics(database.db, { defaultUpstream: config.SMARTHOST_UPSTREAM });
  const secrets = opts.secrets ?? (config.SMARTHOST_SECRET_KEY ? createSecretBox(config.SMARTHOST_SECRET_KEY) : undefined);
  // One-click unsubscribe links: signed with a key derived from SMARTHOST_SECRET_KEY, so every node sharing it answers them.
  const unsubscribeMac: TokenMac | undefined = secrets && (async (data) => (await secrets).mac(data, UNSUBSCRIBE_MAC_PURPOSE));
  const unsubscribe = unsubscribeMac && config.SMARTHOST_PUBLIC_URL ? { baseUrl: config.SMARTHOST_PUBLIC_URL, mac: unsubscribeMac } : undefined;
  // The domain check where the node has DNS: the admin API, and the dashboard's DKIM setup.
  const domainCheck = opts.dns && { db: database.db, resolve: opts.dns, fetchPolicy: fetchPolicyText, sendingIps: config.SMARTHOST_SENDING_IPS, dane: opts.dane, inboundHost: opts.hostname };
  const signer = secrets ? createDkimSigner({ db: database.db, secrets, lookupTxt: opts.dns && txtLookup(opts.dns), pool: opts.dkimPool, log }) : undefined;
  // DMARC alignment at acceptance: SPF needs DNS (Bun, Deno); without it DKIM alone decides.
  const spf = opts.dns && createSpfVerdicts({ resolve: opts.dns, sendingIps: config.SMARTHOST_SENDING_IPS });
  const gateway = new Gateway({ db: database.db, sql: database.sql, writer: opts.writer, maxMessageBytes: config.SMARTHOST_MAX_MESSAGE_BYTES, maxRecipients: config.SMARTHOST_MAX_RECIPIENTS, metrics, onAccepted: opts.onAccepted, handoff: opts.handoff, signer, holdBacklog: config.SMARTHOST_HOLD_BACKLOG, unsubscribe, log, spf, upstream: config.SMARTHOST_UPSTREAM, hostname: opts.hostname, readCacheMs: database.remote ? REMOTE_READ_CACHE_MS : 0 });
  const smtpHandler = timeSmtpAccepts(createSmtpHandler(gateway, log), metrics);
  const app = createApp({
    gateway,
    metrics,
    smtpHandler,
    hostname: opts.hostname,
    maxMessageBytes: config.SMARTHOST_MAX_MESSAGE_BYTES,
    maxBatch: config.SMARTHOST_MAX_BATCH,
    gatewayToken: config.SMARTHOST_GATEWAY_TOKEN,
    metricsToken: config.SMARTHOST_METRICS_TOKEN,
    domainCheck,
    adminToken: config.SMARTHOST_ADMIN_TOKEN,
    secrets,
    log,
    unsubscribe: unsubscribeMac,
    webhooks: { secrets: secrets ? () => Promise.resolve(secrets) : undefined, allowPrivate: config.SMARTHOST_ALLOW_PRIVATE_WEBHOOKS },
    tlsrpt: reportSettings(config, opts.hostname),
    mounts: config.SMARTHOST_ADMIN_TOKEN ? [{ path: "/dashboard", routes: dashboardRoutes({ storage: gateway.storage, token: config.SMARTHOST_ADMIN_TOKEN, hostname: opts.hostname, setup: { secrets, domainCheck, allowPrivateWebhooks: config.SMARTHOST_ALLOW_PRIVATE_WEBHOOKS } }) }] : [],
  });
  return { gateway, smtpHandler, app, metrics };
}
