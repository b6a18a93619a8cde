import { describe, expect, test } from "bun:test";
import { deriveLinkKeys, ReplayGuard, signRequest, verifyRequest, WINDOW_SECONDS } from "../../../src/gateway/link-auth.ts";
import { GRANT_LIFETIME_MS, issueGrant, verifyGrant } from "../../../src/gateway/grants.ts";

const TOKEN = "unit-test-token-0123456789abcdefghijklmn";
const body = new TextEncoder().encode('{"session":{}}');
const PATH = "/internal/smtp/sender";

async function check(signedAtMs: number, receivedAtMs: number, guard = new ReplayGuard(), opts: { path?: string; method?: string; token?: string } = {}) {
  const keys = await deriveLinkKeys(TOKEN);
  const signer = opts.token ? await deriveLinkKeys(opts.token) : keys;
  const headers = await signRequest(signer.request, "POST", PATH, body, signedAtMs);
  return verifyRequest(keys.request, guard, { method: opts.method ?? "POST", path: opts.path ?? PATH, headers: (n) => headers[n], body }, receivedAtMs);
}

describe("request signatures", () => {
  const t0 = 1_800_000_000_000;
  test("accepts a request within the window either way", async () => {
    expect(await check(t0, t0)).toEqual({ ok: true });
    expect(await check(t0, t0 + WINDOW_SECONDS * 1000)).toEqual({ ok: true });
    expect(await check(t0 + WINDOW_SECONDS * 1000, t0)).toEqual({ ok: true });
  });

  test("refuses a request older or newer than the window", async () => {
    expect(await check(t0, t0 + (WINDOW_SECONDS + 1) * 1000)).toMatchObject({ ok: false, code: "stale_request" });
    expect(await check(t0 + (WINDOW_SECONDS + 1) * 1000, t0)).toMatchObject({ ok: false, code: "stale_request" });
  });

  test("binds the method, the path and the key", async () => {
    expect(await check(t0, t0, undefined, { path: "/internal/smtp/accept" })).toMatchObject({ ok: false, code: "bad_signature" });
    expect(await check(t0, t0, undefined, { method: "PUT" })).toMatchObject({ ok: false, code: "bad_signature" });
    expect(await check(t0, t0, undefined, { token: `${TOKEN}x` })).toMatchObject({ ok: false, code: "bad_signature" });
  });

  test("the replay guard forgets a signature only once its window has passed", () => {
    const guard = new ReplayGuard();
    expect(guard.admit("a", 100, 40)).toBe(true);
    expect(guard.admit("a", 100, 99)).toBe(false);
    expect(guard.admit("b", 200, 100)).toBe(true);
    expect(guard.size).toBe(2);
    expect(guard.admit("c", 300, 101)).toBe(true);
    expect(guard.size).toBe(2); // "a" expired at 100 and is dropped
    expect(guard.admit("b", 200, 150)).toBe(false);
  });
});

describe("principal grants", () => {
  const t0 = 1_800_000_000_000;
  const subject = { sessionId: "S1", remoteAddress: "192.0.2.7", principal: { username: "app", accountId: "acct-1" }, via: "auth" as const };
  const at = { sessionId: "S1", remoteAddress: "192.0.2.7" };

  test("says who it was issued for, and asks for renewal past half its life", async () => {
    const key = (await deriveLinkKeys(TOKEN)).grant;
    const g = await issueGrant(key, subject, t0);
    expect(await verifyGrant(key, g, at, t0 + 1000)).toEqual({ ok: true, principal: subject.principal, via: "auth", renew: false });
    expect(await verifyGrant(key, g, at, t0 + GRANT_LIFETIME_MS * 0.75)).toMatchObject({ ok: true, renew: true });
  });

  test("expires", async () => {
    const key = (await deriveLinkKeys(TOKEN)).grant;
    const g = await issueGrant(key, subject, t0);
    expect(await verifyGrant(key, g, at, t0 + GRANT_LIFETIME_MS)).toEqual({ ok: false, reason: "expired" });
  });

  test("is refused for another session, another address, another key, or edited claims", async () => {
    const keys = await deriveLinkKeys(TOKEN);
    const g = await issueGrant(keys.grant, subject, t0);
    expect(await verifyGrant(keys.grant, g, { ...at, sessionId: "S2" }, t0)).toEqual({ ok: false, reason: "other-session" });
    expect(await verifyGrant(keys.grant, g, { ...at, remoteAddress: "192.0.2.8" }, t0)).toEqual({ ok: false, reason: "other-session" });
    // The request key and the grant key differ though both come from one token.
    expect(await verifyGrant(keys.request, g, at, t0)).toEqual({ ok: false, reason: "invalid" });
    const [claims, mac] = g.split(".") as [string, string];
    const edited = Buffer.from(Buffer.from(claims, "base64url").toString().replace("acct-1", "acct-2")).toString("base64url");
    expect(await verifyGrant(keys.grant, `${edited}.${mac}`, at, t0)).toEqual({ ok: false, reason: "invalid" });
  });
});
