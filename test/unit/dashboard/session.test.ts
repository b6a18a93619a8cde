import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient, type Client } from "@libsql/client";
import { join } from "node:path";
import { applyMigrations } from "../../../src/db/migrate.ts";
import { SESSION_TTL_MS, SessionKeys } from "../../../src/dashboard/session.ts";
import { removeDir, tempDir } from "../../support/relay.ts";

const TOKEN = "admin-token-for-session-tests-0123456789";
const NOW = 1_800_000_000_000;
let dir: string;
let client: Client;

beforeAll(async () => {
  dir = tempDir();
  client = createClient({ url: `file:${join(dir, "s.db")}` });
  await applyMigrations(client);
});
afterAll(() => {
  client?.close();
  if (dir) removeDir(dir);
});

const keysFor = (token: string) => new SessionKeys(token, () => client);

describe("dashboard session cookie", () => {
  test("an issued cookie reads back with the same CSRF token until it expires", async () => {
    const keys = keysFor(TOKEN);
    const { value, session } = await keys.issue(NOW);
    expect(await keys.read(value, NOW + 1000)).toEqual(session);
    expect(await keys.read(value, NOW + SESSION_TTL_MS)).toBeNull();
  });

  test("an altered expiry, nonce or signature is refused", async () => {
    const keys = keysFor(TOKEN);
    const { value } = await keys.issue(NOW);
    const [exp, nonce, sig] = value.split(".") as [string, string, string];
    expect(await keys.read(`${Number(exp) + 3_600_000}.${nonce}.${sig}`, NOW)).toBeNull();
    expect(await keys.read(`${exp}.${nonce.replace(/^./, (c) => (c === "A" ? "B" : "A"))}.${sig}`, NOW)).toBeNull();
    expect(await keys.read(`${exp}.${nonce}.${sig.replace(/^./, (c) => (c === "A" ? "B" : "A"))}`, NOW)).toBeNull();
    expect(await keys.read(undefined, NOW)).toBeNull();
    expect(await keys.read("garbage", NOW)).toBeNull();
  });

  test("a cookie made under another admin token is refused (changing the token ends sessions)", async () => {
    const { value } = await keysFor(`${TOKEN}-old`).issue(NOW);
    expect(await keysFor(TOKEN).read(value, NOW)).toBeNull();
  });

  test("logout ends the session for every copy of its cookie, on every node; other sessions go on", async () => {
    const here = keysFor(TOKEN);
    const otherNode = keysFor(TOKEN);
    const a = await here.issue(NOW);
    const b = await here.issue(NOW);
    expect(await otherNode.read(a.value, NOW + 1)).toEqual(a.session);
    await here.end(a.session);
    expect(await here.read(a.value, NOW + 2)).toBeNull();
    expect(await otherNode.read(a.value, NOW + 2)).toBeNull();
    expect(await otherNode.read(b.value, NOW + 2)).toEqual(b.session);
  });

  test("a signed cookie with no session row behind it is refused", async () => {
    const keys = keysFor(TOKEN);
    const { value, session } = await keys.issue(NOW);
    await client.execute("DELETE FROM dashboard_sessions");
    expect(await keys.read(value, NOW + 1)).toBeNull();
    expect(session.csrf.length).toBe(43);
  });

  test("the CSRF token belongs to its session only", async () => {
    const keys = keysFor(TOKEN);
    const a = (await keys.issue(NOW)).session;
    const b = (await keys.issue(NOW)).session;
    expect(await keys.csrfOk(a, a.csrf)).toBe(true);
    expect(await keys.csrfOk(a, b.csrf)).toBe(false);
    expect(await keys.csrfOk(a, undefined)).toBe(false);
    expect(await keys.csrfOk(a, "")).toBe(false);
  });
});
