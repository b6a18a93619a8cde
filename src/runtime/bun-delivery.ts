/** Delivery on Bun: the delivery worker with this runtime's socket `connect` and resolver. */
import { readFile } from "node:fs/promises";
import type { Config } from "../config.ts";
import { DeliveryWorker } from "../delivery/worker.ts";
import { deliverySettings } from "../delivery/settings.ts";
import type { DeliveryObserver } from "../delivery/worker-config.ts";
import type { Logger } from "../core/log.ts";
import { GroupCommit } from "../db/group-commit.ts";
import type { Database } from "../db/client.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import { createResolver } from "./node-dns.ts";
import { createNodeConnect } from "./node-socket.ts";
import { createMtaSts } from "../delivery/mta-sts.ts";
import { createDnsResolve } from "./node-dns-records.ts";
import { createPolicyFetch } from "./node-policy-fetch.ts";
import { createDaneLookup } from "../delivery/dane-lookup.ts";
import { createDnsExchange } from "./node-dns-exchange.ts";
import { nodeCertificateTools } from "./node-x509.ts";
import { createReturnPaths } from "../return-path/sender.ts";

export async function createDelivery(config: Config, hostname: string, database: Database, writer: GroupCommit, log: Logger, secrets: SecretBox, observer?: DeliveryObserver): Promise<DeliveryWorker> {
  const ca = config.SMARTHOST_UPSTREAM_CA_FILE ? [await readFile(config.SMARTHOST_UPSTREAM_CA_FILE, "utf8")] : [];
  return new DeliveryWorker({
    db: database.db,
    sql: database.sql,
    writer,
    connect: createNodeConnect({ ca }),
    resolver: createResolver(config.SMARTHOST_DNS_SERVERS),
    log,
    mtaSts: config.SMARTHOST_MTA_STS === "off" ? undefined : mtaStsFor(config, database, ca),
    // RFC 7672: TLSA lookups through the resolver the operator named (its AD bit trusted).
    dane: config.SMARTHOST_DANE === "on" ? { lookup: createDaneLookup(createDnsExchange(config.SMARTHOST_DNS_SERVERS), log), certificates: nodeCertificateTools } : undefined,
    secrets,
    returnPaths: createReturnPaths({ sql: database.sql, mac: (data, purpose) => secrets.mac(data, purpose) }),
    config: deliverySettings(config, hostname),
    observer,
  });
}

function mtaStsFor(config: Config, database: Database, ca: string[]) {
  const resolve = createDnsResolve(config.SMARTHOST_DNS_SERVERS);
  return createMtaSts({ db: database.db, resolve, fetchPolicy: createPolicyFetch({ resolve, ca }) });
}
