/** The delivery worker's settings from the configuration: one mapping for every runtime. */
import type { Config } from "../config.ts";
import type { DeliveryConfig } from "./worker-config.ts";

export function deliverySettings(config: Config, hostname: string): DeliveryConfig {
  return {
    hostname,
    retryBaseMs: config.SMARTHOST_RETRY_BASE_SECONDS * 1000,
    lifetimeMs: config.SMARTHOST_QUEUE_LIFETIME_SECONDS * 1000,
    allowPrivateMx: config.SMARTHOST_ALLOW_PRIVATE_MX,
    mxPort: config.SMARTHOST_MX_PORT,
    defaultUpstream: config.SMARTHOST_UPSTREAM,
    concurrency: config.SMARTHOST_DELIVERY_CONCURRENCY,
    perDestination: config.SMARTHOST_DELIVERY_PER_DESTINATION,
    leaseMs: config.SMARTHOST_DELIVERY_LEASE_SECONDS * 1000,
    pollMs: config.SMARTHOST_DELIVERY_POLL_MS,
    retentionMs: config.SMARTHOST_RETENTION_SECONDS * 1000,
  };
}
