/** Delivery on Bun: the delivery worker with this runtime's socket `connect` and resolver. */
import { readFile } from "node:fs/promises";
import type { Config } from "../config.ts";
import { DeliveryWorker } from "../delivery/worker.ts";
import type { Logger } from "../smtp/session-types.ts";
import { GroupCommit } from "../queue/group-commit.ts";
import type { Database } from "../db/client.ts";
import { createResolver } from "./node-dns.ts";
import { createNodeConnect } from "./node-socket.ts";
import { createMtaSts } from "../delivery/mta-sts.ts";
import { createDnsResolve } from "./node-dns-records.ts";
import { createPolicyFetch } from "./node-policy-fetch.ts";

export async function createDelivery(config: Config, hostname: string, database: Database, writer: GroupCommit, log: Logger): Promise<DeliveryWorker> {
  const ca = config.SMARTHOST_UPSTREAM_CA_FILE ? [await readFile(config.SMARTHOST_UPSTREAM_CA_FILE, "utf8")] : [];
  return new DeliveryWorker({
    db: database.db,
    sql: database.sql,
    writer,
    connect: createNodeConnect({ ca }),
    resolver: createResolver(config.SMARTHOST_DNS_SERVERS),
    log,
    mtaSts: config.SMARTHOST_MTA_STS === "off" ? undefined : mtaStsFor(config, database, ca),
    config: {
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
    },
  });
}

function mtaStsFor(config: Config, database: Database, ca: string[]) {
  const resolve = createDnsResolve(config.SMARTHOST_DNS_SERVERS);
  return createMtaSts({ db: database.db, resolve, fetchPolicy: createPolicyFetch({ resolve, ca }) });
}
