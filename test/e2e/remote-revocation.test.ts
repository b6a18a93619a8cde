/**
 * Two nodes on one sqld keep the rows they read per request for a few seconds (gateway
 * readCacheMs): a key revoked or a credential removed from the CLI is refused on both
 * nodes within 5 s.
 */
import { afterAll, expect, test } from "bun:test";
import { smtplibLogin } from "../support/python.ts";
import { addTenant, cliOk, removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";
import { startSharedDb, type SharedDb } from "../support/shared-db.ts";
import { waitFor } from "../support/wait.ts";

const BOUND_MS = 5_000;
const dir = tempDir();
let shared: SharedDb | null = null;
const relays: Relay[] = [];
afterAll(async () => {
  for (const r of relays) await r.stop();
  await shared?.sqld.stop();
  removeDir(dir);
});

test("a revoked key and a removed credential are refused on every node within 5 s", async () => {
  shared = await startSharedDb(dir);
  const tenant = await addTenant(dir, { env: shared.env });
  for (let i = 0; i < 2; i++) relays.push(await startRelay(dir, shared.env));
  const post = (r: Relay) =>
    fetch(`${r.http}/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${tenant.apiKey}` }, body: JSON.stringify({ from: "app@example.com", to: ["x@dest.test"], subject: "s", text: "t" }) }).then((res) => res.status);
  // Python's smtplib: STARTTLS, then AUTH (offered only under TLS).
  const auth = (r: Relay) => smtplibLogin(r.smtpPort, tenant.username, tenant.password);
  // Both nodes have read the key and verified the password.
  for (const r of relays) {
    expect(await post(r)).toBe(202);
    expect(await auth(r)).toBe(235);
  }

  const keyId = /^sh_([A-Za-z0-9]{8})_/.exec(tenant.apiKey)![1]!;
  // Timed from the command's return: the change is committed by then.
  await cliOk(dir, ["key", "revoke", keyId], shared.env);
  let at = Date.now();
  await Promise.all(relays.map((r) => waitFor("the revoked key refused", async () => (await post(r)) === 401, BOUND_MS + 2_000)));
  expect(Date.now() - at).toBeLessThanOrEqual(BOUND_MS);

  await cliOk(dir, ["credential", "remove", tenant.username], shared.env);
  at = Date.now();
  await Promise.all(relays.map((r) => waitFor("the removed credential refused", async () => (await auth(r)) === 535, BOUND_MS + 2_000)));
  expect(Date.now() - at).toBeLessThanOrEqual(BOUND_MS);
}, 60_000);
