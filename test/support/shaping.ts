/**
 * A delivery worker on a real libSQL file with two or more relay routes to smtp-server
 * upstreams on loopback: the harness of the traffic-shaping tests.
 */
import { join } from "node:path";
import type { Database } from "../../src/db/client.ts";
import { routes } from "../../src/db/schema.ts";
import { DeliveryWorker, type DeliveryConfig } from "../../src/delivery/worker.ts";
import { GroupCommit } from "../../src/db/group-commit.ts";
import { enqueueMessage } from "../../src/queue/enqueue.ts";
import { openDatabase } from "../../src/runtime/bun-db.ts";
import { createNodeConnect } from "../../src/runtime/node-socket.ts";
import { createResolver } from "../../src/runtime/node-dns.ts";
import { newId } from "../../src/smtp/ids.ts";
import { tempDir } from "./relay.ts";

export interface ShapingDb {
  dir: string;
  database: Database;
  writer: GroupCommit;
  logged: { event: string; fields: Record<string, unknown> }[];
}

export async function openShapingDb(name: string, dir = tempDir()): Promise<ShapingDb> {
  const database = await openDatabase(`file:${join(dir, name)}`);
  // The account queueMessages sends as (messages reference their account).
  await database.client.execute("INSERT INTO accounts (id, name, created_at) VALUES ('a', 'shaping', 0)");
  return { dir, database, writer: new GroupCommit(database.sql), logged: [] };
}

export const routeLabel = (port: number) => `smtp://127.0.0.1:${port}`;

export async function addTestRoute(s: ShapingDb, domain: string, port: number, position: number, quota: { perSecond?: number; perMinute?: number; perDay?: number } = {}): Promise<void> {
  await s.database.db.insert(routes).values({ domain, url: `${routeLabel(port)}?tls=none`, secret: null, position, perSecond: quota.perSecond ?? null, perMinute: quota.perMinute ?? null, perDay: quota.perDay ?? null });
}

export function shapingWorker(s: ShapingDb, config: Partial<DeliveryConfig> = {}, resolver = createResolver([])): DeliveryWorker {
  return new DeliveryWorker({
    db: s.database.db,
    sql: s.database.sql,
    writer: s.writer,
    connect: createNodeConnect({}),
    resolver,
    log: (event, fields) => s.logged.push({ event, fields }),
    config: {
      hostname: "relay.test",
      retryBaseMs: 60_000,
      lifetimeMs: 86_400_000,
      allowPrivateMx: true,
      mxPort: 25,
      defaultUpstream: "mx",
      concurrency: 4,
      perDestination: 4,
      leaseMs: 60_000,
      pollMs: 100,
      ...config,
    },
  });
}

/** Queues `n` one-recipient messages to rcpt@DOMAIN with subjects `${tag} i`; returns their ids. */
export async function queueMessages(s: ShapingDb, domain: string, n: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = newId();
    ids.push(id);
    const raw = new TextEncoder().encode(`From: app@example.com\r\nSubject: ${tag} ${i}\r\n\r\nhi\r\n`);
    await enqueueMessage(s.writer, { id, accountId: "a", source: "smtp", mailFrom: "app@example.com", raw, recipients: [{ address: `rcpt@${domain}`, domain }], smtputf8: false }, Date.now(), null);
  }
  return ids;
}

export async function recipientStates(s: ShapingDb, ids: string[]): Promise<Record<string, number>> {
  const rs = await s.database.sql.execute({ sql: `SELECT state, count(*) AS n FROM recipients WHERE message_id IN (${ids.map(() => "?").join(", ")}) GROUP BY state`, args: ids });
  return Object.fromEntries(rs.rows.map((r) => [String(r.state), Number(r.n)]));
}

/** The operators' route events (kept under no account). */
export async function routeEvents(s: ShapingDb): Promise<{ type: string; data: Record<string, unknown> }[]> {
  const rs = await s.database.sql.execute("SELECT type, data FROM account_events WHERE account_id IS NULL AND type LIKE 'route.%' ORDER BY id");
  return rs.rows.map((r) => ({ type: String(r.type), data: JSON.parse(String(r.data)) as Record<string, unknown> }));
}

/** Subjects an upstream received (to find duplicates). */
export const subjects = (received: { raw: Buffer }[]) => received.map((m) => /Subject: (.*)\r\n/.exec(m.raw.toString())?.[1] ?? "");
