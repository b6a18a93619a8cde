/**
 * A long SMTP session on an ingress-only node: the grant the gateway issued at AUTH is
 * renewed while the session works, so it never lapses mid-session; a grant left to expire
 * gets a 454 4.7.0 (reconnect), not a 250 and not a silent refusal. The gateway runs in
 * this process on a real libSQL file, behind a loopback HTTP server, with a clock the
 * test moves; the ingress side is the real remote handler on the same clock.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/runtime/bun-db.ts";
import type { Database } from "../../src/db/client.ts";
import { createGatewayStack } from "../../src/stack.ts";
import { handoffRoutes } from "../../src/gateway/routes/handoff.ts";
import { HANDOFF_PATH } from "../../src/gateway/handoff.ts";
import { GRANT_LIFETIME_MS } from "../../src/gateway/grants.ts";
import { GroupCommit } from "../../src/db/group-commit.ts";
import { createRemoteHandler } from "../../src/ingress/remote-handler.ts";
import type { SessionInfo } from "../../src/smtp/handler.ts";
import { Hono } from "hono";
import { addTenant, removeDir, tempDir, type Tenant } from "../support/relay.ts";
import { mailbox, session } from "../support/handoff.ts";

const TOKEN = "renewal-test-token-0123456789abcdefghijk";
let dir: string;
let database: Database;
let server: ReturnType<typeof Bun.serve>;
let tenant: Tenant;
let clock = 1_800_000_000_000;
const now = () => clock;

beforeAll(async () => {
  dir = tempDir();
  tenant = await addTenant(dir);
  database = await openDatabase(`file:${join(dir, "smarthost.db")}`);
  const config = loadConfig({ SMARTHOST_GATEWAY_TOKEN: TOKEN, SMARTHOST_DB_URL: `file:${join(dir, "smarthost.db")}` });
  const stack = createGatewayStack({ config, database, writer: new GroupCommit(database.sql), hostname: "relay.test", log: () => {} });
  const app = new Hono();
  app.route(HANDOFF_PATH, handoffRoutes(stack.smtpHandler, TOKEN, { log: () => {}, now }));
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
}, 30_000);

afterAll(() => {
  server?.stop(true);
  database?.close();
  removeDir(dir);
});

test("the grant is renewed as the session works and a lapsed one gets 454 4.7.0", async () => {
  const remote = createRemoteHandler(`http://127.0.0.1:${server.port}`, TOKEN, () => {}, { now });
  const base = session("S-long") as unknown as SessionInfo;
  const auth = await remote.authenticate(base, { mechanism: "PLAIN", authzid: "", username: tenant.username, password: tenant.password });
  if (!auth.ok) throw new Error(`AUTH refused: ${auth.reply.lines.join(" ")}`);
  const working: SessionInfo = { ...base, principal: auth.principal, authenticated: true };
  const mail = () => remote.checkSender(working, mailbox("alice@example.com") as never, { smtputf8: false });

  expect(await mail()).toBeNull();
  clock += GRANT_LIFETIME_MS * 0.75; // past half its life: the gateway hands back a new one
  expect(await mail()).toBeNull();
  clock += GRANT_LIFETIME_MS * 0.5; // the first grant has expired; the renewed one has not
  expect(await mail()).toBeNull();

  // A session that holds only the first grant (no renewal seen) is told to reconnect.
  const stale: SessionInfo = { ...working, principal: { ...auth.principal } };
  expect(await remote.checkSender(stale, mailbox("alice@example.com") as never, { smtputf8: false })).toEqual({
    code: 454,
    enhanced: "4.7.0",
    lines: ["Session authorization expired; reconnect and authenticate again"],
  });
});
