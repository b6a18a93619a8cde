/** The API key read on the hot-path connection: revocation and the suppression list, seen from another connection at once. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { join } from "node:path";
import { EmbeddedDatabase } from "../../../src/runtime/libsql-embedded.ts";
import { generateApiKey } from "../../../src/policy/api-keys.ts";
import { Gateway } from "../../../src/gateway/gateway.ts";
import { gatewayFixture, type GatewayFixture } from "../policy/gateway-fixture.ts";

let fx: GatewayFixture;
let hot: EmbeddedDatabase;
let gateway: Gateway;
let key: string;
let keyId: string;

beforeEach(async () => {
  // The fixture's own client stands for every other connection (the CLI, the admin API).
  fx = await gatewayFixture();
  // As serve runs it: hot-path statements on their own embedded connection (runtime/bun-db.ts).
  hot = new EmbeddedDatabase(join(fx.dir, "g.db"));
  gateway = new Gateway({ db: fx.database.db, sql: hot, maxMessageBytes: 1_000_000, metrics: fx.metrics });
  const k = await generateApiKey();
  key = k.key;
  keyId = k.id;
  await fx.client.execute({ sql: "INSERT INTO api_keys (id, account_id, key_hash, created_at) VALUES (?, 'acct', ?, 0)", args: [k.id, k.hash] });
});

afterEach(() => {
  hot.close();
  fx.close();
});

test("the key's read says whether the account lists any suppression, as of that read", async () => {
  expect(await gateway.auth.apiCaller(`Bearer ${key}`)).toEqual({ accountId: "acct", keyId, suppressionsListed: false });
  await fx.client.execute({ sql: "INSERT INTO suppressions (account_id, address, reason, created_at) VALUES ('acct', 'gone@dest.test', 'manual', 0)", args: [] });
  expect(await gateway.auth.apiCaller(`Bearer ${key}`)).toEqual({ accountId: "acct", keyId, suppressionsListed: true });
  await fx.client.execute({ sql: "DELETE FROM suppressions WHERE account_id = 'acct'", args: [] });
  expect((await gateway.auth.apiCaller(`Bearer ${key}`)).suppressionsListed).toBe(false);
});

test("a key revoked on another connection is refused on the next read", async () => {
  expect(await gateway.auth.authenticateApiKey(`Bearer ${key}`)).toBe("acct");
  await fx.client.execute({ sql: "UPDATE api_keys SET revoked_at = 1 WHERE id = ?", args: [keyId] });
  await expect(gateway.auth.authenticateApiKey(`Bearer ${key}`)).rejects.toMatchObject({ kind: "unauthenticated" });
});
