/**
 * The admin throttle on the Deno gateway counts each client address on its own: wrong
 * tokens from one address never refuse the admin at another (issue 20), and behind a
 * trusted proxy the address is the one it forwarded for.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { removeDir, tempDir } from "../support/relay.ts";
import { freeTcpPort } from "../support/ports.ts";
import { bearer, loginForm, requestFrom } from "../support/from-address.ts";
import { withTimeout } from "../support/wait.ts";

const ROOT = join(import.meta.dir, "..", "..");
const DENO = join(ROOT, "node_modules", ".bin", "deno");
const TOKEN = "admin-token-for-the-deno-lockout-0123456789";
const PROXY = "127.0.0.7";
let dir: string;
let gateway: Subprocess<"ignore", "pipe", "pipe">;
let url: string;

beforeAll(async () => {
  dir = tempDir();
  const port = await freeTcpPort();
  gateway = Bun.spawn([DENO, "run", "-A", "--no-check", join(ROOT, "src", "deno.ts")], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      SMARTHOST_DB_URL: `file:${join(dir, "smarthost.db")}`,
      SMARTHOST_DATA_DIR: join(dir, "data"),
      SMARTHOST_HTTP_LISTEN: `127.0.0.1:${port}`,
      SMARTHOST_ADMIN_TOKEN: TOKEN,
      SMARTHOST_TRUSTED_PROXIES: `${PROXY}/32`,
    },
  });
  // The listening line comes once every address is bound.
  let text = "";
  const listening = (async () => {
    for await (const chunk of gateway.stderr) {
      text += new TextDecoder().decode(chunk);
      if (text.includes('"listening"')) return;
    }
    throw new Error(`the Deno gateway ended before listening:\n${text}`);
  })();
  await withTimeout(listening, 60_000, "the Deno gateway's listening line");
  url = `http://127.0.0.1:${port}`;
}, 90_000);

afterAll(async () => {
  if (gateway) {
    gateway.kill();
    await gateway.exited;
  }
  if (dir) removeDir(dir);
});

test("five wrong admin tokens from one address do not refuse the right token from another", async () => {
  for (let i = 0; i < 5; i++) expect((await requestFrom("127.0.0.5", `${url}/v1/admin/accounts`, { headers: bearer(`${TOKEN}-wrong`) })).status).toBe(401);
  // The guesser itself is refused now, and told when to come back.
  const refused = await requestFrom("127.0.0.5", `${url}/v1/admin/accounts`, { headers: bearer(TOKEN) });
  expect(refused.status).toBe(429);
  expect(Number(refused.headers["retry-after"])).toBeWithin(1, 901);
  expect((await requestFrom("127.0.0.9", `${url}/v1/admin/accounts`, { headers: bearer(TOKEN) })).status).toBe(200);
  // The dashboard login counts under the same name and address: open at .9 as well.
  const login = await requestFrom("127.0.0.9", `${url}/dashboard/login`, loginForm(TOKEN));
  expect([login.status, login.headers.location]).toEqual([303, "/dashboard"]);
}, 60_000);

test("an X-Forwarded-For from a peer that is not a trusted proxy is not believed", async () => {
  // Each try names another address; all of them count against the peer that sent them.
  for (let i = 0; i < 5; i++) expect((await requestFrom("127.0.0.6", `${url}/dashboard/login`, { ...loginForm(`${TOKEN}-wrong`), headers: { ...loginForm("").headers, "x-forwarded-for": `198.51.100.${i + 1}` } })).status).toBe(401);
  const refused = await requestFrom("127.0.0.6", `${url}/dashboard/login`, { ...loginForm(TOKEN), headers: { ...loginForm("").headers, "x-forwarded-for": "198.51.100.99" } });
  expect(refused.status).toBe(429);
  // A login from another address goes through (and clears the admin's failure count).
  expect((await requestFrom("127.0.0.8", `${url}/dashboard/login`, loginForm(TOKEN))).status).toBe(303);
}, 60_000);

test("behind a trusted proxy, the address it forwarded for is the client's", async () => {
  // The client's own element (left) is not believed; the proxy's appended one (right) is.
  const via = (client: string) => ({ "x-forwarded-for": `127.0.0.9, ${client}` });
  for (let i = 0; i < 5; i++) expect((await requestFrom(PROXY, `${url}/v1/admin/accounts`, { headers: { ...bearer(`${TOKEN}-wrong`), ...via("198.51.100.5") } })).status).toBe(401);
  expect((await requestFrom(PROXY, `${url}/v1/admin/accounts`, { headers: { ...bearer(TOKEN), ...via("198.51.100.5") } })).status).toBe(429);
  // Another client through the same proxy, and the proxy's own address, are not refused.
  expect((await requestFrom(PROXY, `${url}/v1/admin/accounts`, { headers: { ...bearer(TOKEN), ...via("198.51.100.9") } })).status).toBe(200);
  expect((await requestFrom(PROXY, `${url}/v1/admin/accounts`, { headers: bearer(TOKEN) })).status).toBe(200);
}, 60_000);
