/** What a delivery worker is given: its settings and its edges (database, sockets, DNS, clock). */
import type { Sql } from "../db/raw.ts";
import type { Db } from "../db/client.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import type { Logger } from "../core/log.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import type { BreakerConfig } from "../shaping/route-health.ts";
import type { Resolver } from "./mx.ts";
import type { MtaSts } from "./mta-sts.ts";
import type { ClientOptions } from "./smtp-client.ts";
import type { Connect } from "./socket.ts";
import type { DaneLookup } from "./dane-lookup.ts";
import type { CertificateTools } from "./dane.ts";
import type { ReturnPaths } from "../return-path/sender.ts";

export interface DeliveryConfig {
  hostname: string;
  retryBaseMs: number;
  lifetimeMs: number;
  allowPrivateMx: boolean;
  mxPort: number;
  defaultUpstream: string;
  concurrency: number;
  perDestination: number;
  leaseMs: number;
  pollMs: number;
  timeouts?: ClientOptions["timeouts"];
  /**
   * Deliver only through smart-host routes and leave direct-MX work to other nodes (on
   * Workers, which cannot open port 25).
   */
  relayOnly?: boolean;
  /** Keep upstream connections open between messages (not on Workers: a socket belongs to one invocation). */
  reuseConnections?: boolean;
  /** How long finished messages stay for the status API before they are removed (0 keeps them). */
  retentionMs?: number;
  /** The relay routes' circuit breaker (src/shaping/route-health.ts). */
  breaker?: Partial<BreakerConfig>;
}

/**
 * What the worker tells of each outcome it recorded (src/gateway/metrics.ts counts them):
 * the route it went by (a relay's label, never its credentials, or "mx") and, for a
 * delivered one, the seconds since the message was accepted.
 */
export interface DeliveryObserver {
  deliveryRecorded(outcome: "delivered" | "deferred" | "bounced", route: string, secondsSinceAccepted: number): void;
}

export interface DeliveryDeps {
  db: Db;
  /** The connection for hot-path reads. */
  sql: Sql;
  /** The process's shared writer: outcomes join the same group commits as submissions. */
  writer: GroupCommit;
  connect: Connect;
  resolver: Resolver;
  config: DeliveryConfig;
  log: Logger;
  now?: () => number;
  /** Opens sealed route passwords (SMARTHOST_SECRET_KEY). */
  secrets?: SecretBox;
  /** MTA-STS policies of recipient domains (absent: SMARTHOST_MTA_STS=off). */
  mtaSts?: MtaSts;
  /** DANE for MX delivery (absent: SMARTHOST_DANE=off): TLSA lookups and certificate parsing. */
  dane?: { lookup: DaneLookup; certificates: CertificateTools };
  /** VERP envelope senders for sender domains with a return path (src/return-path/sender.ts). */
  returnPaths?: ReturnPaths;
  /** This node's /metrics (absent where nothing serves them: an egress-only node). */
  observer?: DeliveryObserver;
}

