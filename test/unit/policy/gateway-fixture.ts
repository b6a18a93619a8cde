/** A Gateway in this process over a real libSQL file, with one account, a credential and example.com as sender. */
import { createClient, type Client } from "@libsql/client";
import { join } from "node:path";
import { databaseFrom, type Database } from "../../../src/db/client.ts";
import { applyMigrations } from "../../../src/db/migrate.ts";
import { Gateway, type GatewayDeps } from "../../../src/gateway/gateway.ts";
import { createMetrics, type Metrics } from "../../../src/gateway/metrics.ts";
import { hashPassword } from "../../../src/policy/passwords.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

export interface GatewayFixture {
  dir: string;
  client: Client;
  database: Database;
  gateway: Gateway;
  metrics: Metrics;
  close(): void;
}

export async function gatewayFixture(deps: Partial<GatewayDeps> = {}, client?: (url: string) => Client): Promise<GatewayFixture> {
  const dir = tempDir();
  const url = `file:${join(dir, "g.db")}`;
  const c = client ? client(url) : createClient({ url });
  await applyMigrations(c);
  await c.execute({ sql: "INSERT INTO accounts (id, name, created_at) VALUES ('acct', 'acme', 0)", args: [] });
  await c.execute({ sql: "INSERT INTO sender_rules (account_id, pattern) VALUES ('acct', 'example.com')", args: [] });
  await c.execute({
    sql: "INSERT INTO smtp_credentials (id, account_id, username, password_hash, created_at) VALUES ('cred', 'acct', 'app1', ?, 0)",
    args: [await hashPassword("right password")],
  });
  const database = databaseFrom(c);
  const metrics = createMetrics(database.db);
  const gateway = new Gateway({ db: database.db, sql: database.sql, maxMessageBytes: 1_000_000, metrics, ...deps });
  return {
    dir,
    client: c,
    database,
    gateway,
    metrics,
    close: () => {
      c.close();
      removeDir(dir);
    },
  };
}
