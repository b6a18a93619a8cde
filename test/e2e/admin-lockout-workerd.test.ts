/**
 * The admin throttle on the Worker (real workerd via `wrangler dev`) counts each client on
 * its own, by CF-Connecting-IP: wrong tokens from one client never refuse the admin at
 * another (issue 20).
 *
 * What `wrangler dev` does with the header (miniflare's entry worker): it sets
 * CF-Connecting-IP to the connecting socket's address when the request has none, and
 * passes one the client sent through unchanged. Cloudflare's edge always replaces it, so
 * a client cannot choose its value there; here, the tests below use both: the socket's
 * own address (bound to 127.0.0.5 and 127.0.0.9) and header values sent by the client.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startSqld, type Sqld } from "../support/sqld.ts";
import { startWranglerDev, type WranglerDev } from "../support/wrangler.ts";
import { cliOk, removeDir, tempDir } from "../support/relay.ts";
import { bearer, loginForm, requestFrom } from "../support/from-address.ts";
import { generateSecretKey } from "../../src/secrets/cipher.ts";

const TOKEN = "admin-token-for-the-workerd-lockout-0123456789";
let dir: string;
let sqld: Sqld;
let worker: WranglerDev;

beforeAll(async () => {
  dir = tempDir();
  sqld = await startSqld(dir);
  await cliOk(dir, ["migrate"], { SMARTHOST_DB_URL: sqld.url });
  worker = await startWranglerDev({ SMARTHOST_DB_URL: sqld.url, SMARTHOST_HOSTNAME: "edge.test", SMARTHOST_SECRET_KEY: generateSecretKey(), SMARTHOST_ADMIN_TOKEN: TOKEN });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await sqld?.stop();
  if (dir) removeDir(dir);
});

test("on workerd, five wrong admin tokens from one client address do not refuse the right token from another", async () => {
  const admin = `${worker.url}/v1/admin/accounts`;
  for (let i = 0; i < 5; i++) expect((await requestFrom("127.0.0.5", admin, { headers: bearer(`${TOKEN}-wrong`) })).status).toBe(401);
  expect((await requestFrom("127.0.0.5", admin, { headers: bearer(TOKEN) })).status).toBe(429);
  expect((await requestFrom("127.0.0.9", admin, { headers: bearer(TOKEN) })).status).toBe(200);
  const login = await requestFrom("127.0.0.9", `${worker.url}/dashboard/login`, loginForm(TOKEN));
  expect([login.status, login.headers.location]).toEqual([303, "/dashboard"]);
}, 90_000);

test("on workerd, each CF-Connecting-IP is a client of its own, from one socket address", async () => {
  const as = (ip: string, token: string) => requestFrom("127.0.0.3", `${worker.url}/dashboard/login`, { ...loginForm(token), headers: { ...loginForm(token).headers, "cf-connecting-ip": ip } });
  for (let i = 0; i < 5; i++) expect((await as("198.51.100.5", `${TOKEN}-wrong`)).status).toBe(401);
  const refused = await as("198.51.100.5", TOKEN);
  expect(refused.status).toBe(429);
  expect(Number(refused.headers["retry-after"])).toBeWithin(1, 901);
  expect((await as("2001:db8::9", TOKEN)).status).toBe(303);
  expect((await requestFrom("127.0.0.3", `${worker.url}/v1/admin/accounts`, { headers: { ...bearer(TOKEN), "cf-connecting-ip": "198.51.100.9" } })).status).toBe(200);
}, 90_000);
