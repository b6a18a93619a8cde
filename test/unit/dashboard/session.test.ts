import { describe, expect, test } from "bun:test";
import { SESSION_TTL_MS, SessionKeys } from "../../../src/dashboard/session.ts";

const TOKEN = "admin-token-for-session-tests-0123456789";
const NOW = 1_800_000_000_000;

describe("dashboard session cookie", () => {
  test("an issued cookie reads back with the same CSRF token until it expires", async () => {
    const keys = new SessionKeys(TOKEN);
    const { value, session } = await keys.issue(NOW);
    expect(await keys.read(value, NOW + 1000)).toEqual(session);
    expect(await keys.read(value, NOW + SESSION_TTL_MS)).toBeNull();
  });

  test("an altered expiry, nonce or signature is refused", async () => {
    const keys = new SessionKeys(TOKEN);
    const { value } = await keys.issue(NOW);
    const [exp, nonce, sig] = value.split(".") as [string, string, string];
    expect(await keys.read(`${Number(exp) + 3_600_000}.${nonce}.${sig}`, NOW)).toBeNull();
    expect(await keys.read(`${exp}.${nonce.replace(/^./, (c) => (c === "A" ? "B" : "A"))}.${sig}`, NOW)).toBeNull();
    expect(await keys.read(`${exp}.${nonce}.${sig.replace(/^./, (c) => (c === "A" ? "B" : "A"))}`, NOW)).toBeNull();
    expect(await keys.read(undefined, NOW)).toBeNull();
    expect(await keys.read("garbage", NOW)).toBeNull();
  });

  test("a cookie made under another admin token is refused (changing the token ends sessions)", async () => {
    const { value } = await new SessionKeys(`${TOKEN}-old`).issue(NOW);
    expect(await new SessionKeys(TOKEN).read(value, NOW)).toBeNull();
  });

  test("the CSRF token belongs to its session only", async () => {
    const keys = new SessionKeys(TOKEN);
    const a = (await keys.issue(NOW)).session;
    const b = (await keys.issue(NOW)).session;
    expect(await keys.csrfOk(a, a.csrf)).toBe(true);
    expect(await keys.csrfOk(a, b.csrf)).toBe(false);
    expect(await keys.csrfOk(a, undefined)).toBe(false);
    expect(await keys.csrfOk(a, "")).toBe(false);
  });
});
