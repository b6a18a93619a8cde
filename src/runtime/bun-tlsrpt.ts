/** The TLS report sender on Bun: node:dns for the records and the rua hosts, the webhooks' pinned POST, the DKIM signer. */
import { lookup } from "node:dns/promises";
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import type { Logger } from "../core/log.ts";
import { createDkimSigner } from "../dkim/signer.ts";
import { TlsReporter } from "../tlsrpt/reporter.ts";
import { reportSettings } from "../tlsrpt/settings.ts";
import { createDnsResolve } from "./node-dns-records.ts";
import { pinnedPost } from "./node-webhook-post.ts";

export function createTlsReporter(config: Config, hostname: string, database: Database, writer: GroupCommit, log: Logger, secrets: SecretBox, onQueued: () => void): TlsReporter {
  return new TlsReporter({
    sql: database.sql,
    writer,
    resolve: createDnsResolve(config.SMARTHOST_DNS_SERVERS),
    network: { resolveHost: async (host) => (await lookup(host, { all: true })).map((a) => a.address), post: pinnedPost() },
    signer: createDkimSigner({ db: database.db, secrets, log }),
    settings: reportSettings(config, hostname),
    log,
    onQueued,
  });
}
