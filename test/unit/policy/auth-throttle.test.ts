import { afterEach, expect, test } from "bun:test";
import { addressKey, THROTTLE, throttleKeys } from "../../../src/policy/auth-throttle.ts";
import { verifyPassword } from "../../../src/policy/passwords.ts";
import { addCredential } from "../../../src/admin/accounts.ts";
import { gatewayFixture, type GatewayFixture } from "./gateway-fixture.ts";
import { Failure } from "../../../src/core/failure.ts";

let fx: GatewayFixture | undefined;
afterEach(() => fx?.close());

const kindOf = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => (e instanceof Failure ? e.kind : String(e)));

test("addresses: IPv4 (also IPv4-mapped) as is, IPv6 by /64; usernames without regard to case", () => {
  expect(addressKey("127.0.0.2")).toBe("127.0.0.2");
  expect(addressKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
  expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
  expect(addressKey("2001:db8:1:2:bbbb::9")).toBe(addressKey("2001:db8:1:2:aaaa::1"));
  expect(addressKey("2001:db8:1:3::1")).not.toBe(addressKey("2001:db8:1:2::1"));
  expect(throttleKeys("127.0.0.2", "APP1")).toEqual(throttleKeys("127.0.0.2", "app1"));
});

test("five failures as APP1 from one address do not lock app1 out from another; they do from the same address", async () => {
  const waits: number[] = [];
  fx = await gatewayFixture({ sleep: async (ms) => void waits.push(ms) });
  const g = fx.gateway;
  for (let i = 0; i < THROTTLE.blockPairAfter; i++) expect(await kindOf(g.auth.authenticateSmtp("127.0.0.2", "APP1", "wrong", ""))).toBe("unauthenticated");
  const p = await g.auth.authenticateSmtp("127.0.0.3", "app1", "right password", "");
  expect(p).toEqual({ username: "app1", accountId: "acct" });
  // Per user the failures only slowed the answer down.
  expect(waits.at(-1)!).toBeGreaterThan(0);
  // The guessing pair is refused, even with the right password, in either spelling.
  expect(await kindOf(g.auth.authenticateSmtp("127.0.0.2", "app1", "right password", ""))).toBe("auth-throttled");
  expect(await kindOf(g.auth.authenticateSmtp("127.0.0.2", "App1", "right password", ""))).toBe("auth-throttled");
});

test("the username matches without regard to case in the lookup too", async () => {
  fx = await gatewayFixture({ sleep: async () => {} });
  expect(await fx.gateway.auth.authenticateSmtp("127.0.0.4", "APP1", "right password", "")).toEqual({ username: "app1", accountId: "acct" });
});

test("60 parallel wrong guesses: at most the limit reach the password check, the rest get 454", async () => {
  let verified = 0;
  fx = await gatewayFixture({
    sleep: async () => {},
    verifyPassword: (pw, hash) => {
      verified++;
      return verifyPassword(pw, hash);
    },
  });
  const g = fx.gateway;
  const kinds = await Promise.all(Array.from({ length: 60 }, (_, i) => kindOf(g.auth.authenticateSmtp("127.0.0.5", "app1", `guess-${i}`, ""))));
  expect(verified).toBeGreaterThan(0);
  expect(verified).toBeLessThanOrEqual(THROTTLE.blockPairAfter);
  expect(kinds.filter((k) => k === "unauthenticated").length).toBe(verified);
  expect(kinds.filter((k) => k === "auth-throttled").length).toBe(60 - verified);
});

test("after a burst of wrong guesses the pair is blocked; the user from another address is not", async () => {
  fx = await gatewayFixture({ sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))) });
  const g = fx.gateway;
  await Promise.all(Array.from({ length: 30 }, (_, i) => kindOf(g.auth.authenticateSmtp("127.0.0.6", "app1", `guess-${i}`, ""))));
  expect(await kindOf(g.auth.authenticateSmtp("127.0.0.6", "app1", "right password", ""))).toBe("auth-throttled");
  expect(await g.auth.authenticateSmtp("127.0.0.7", "app1", "right password", "")).toEqual({ username: "app1", accountId: "acct" });
  const rows = (await fx.client.execute("SELECT key, count, pending FROM auth_failures ORDER BY key")).rows.map((r) => [r.key, Number(r.count), Number(r.pending)]);
  // Five failures counted for the pair, nothing left reserved.
  expect(rows).toContainEqual(["pair:app1|127.0.0.6", 5, 0]);
  expect(rows.every((r) => r[2] === 0)).toBe(true);
});

test("a pooled client opening ten sessions at once with the right password: all get in (the extra ones wait)", async () => {
  let verified = 0;
  fx = await gatewayFixture({
    verifyPassword: (pw, hash) => {
      verified++;
      return verifyPassword(pw, hash);
    },
  });
  const g = fx.gateway;
  const kinds = await Promise.all(Array.from({ length: 10 }, () => kindOf(g.auth.authenticateSmtp("127.0.0.8", "app1", "right password", ""))));
  expect(kinds).toEqual(Array(10).fill("ok"));
  expect(verified).toBe(10);
  expect((await fx.client.execute("SELECT count(*) AS n FROM auth_failures")).rows[0]!.n).toBe(0);
});

test("an address is refused after its own limit across users (IPv6 by /64); a success does not count", async () => {
  fx = await gatewayFixture({ sleep: async () => {} });
  const g = fx.gateway;
  expect(await g.auth.authenticateSmtp("2001:db8::1", "app1", "right password", "")).toBeDefined();
  for (let i = 0; i < THROTTLE.blockIpAfter; i++) {
    expect(await kindOf(g.auth.authenticateSmtp(`2001:db8::${(i % 9) + 2}`, `user${i}`, "wrong", ""))).toBe("unauthenticated");
  }
  expect(await kindOf(g.auth.authenticateSmtp("2001:db8::ff", "app1", "right password", ""))).toBe("auth-throttled");
  expect(await g.auth.authenticateSmtp("2001:db8:0:1::1", "app1", "right password", "")).toBeDefined();
});

test("a credential whose username differs from another only in case is refused (AUTH matches without case)", async () => {
  fx = await gatewayFixture();
  await expect(addCredential(fx.database.db, "acme", "APP1", "another password")).rejects.toThrow('username "app1" already exists');
  expect(await addCredential(fx.database.db, "acme", "app2", "another password")).toBeNull();
});

test("a password verified minutes ago: twenty sessions at once all get in, none waits or reserves an attempt", async () => {
  const sleeps: number[] = [];
  fx = await gatewayFixture({ sleep: async (ms) => void sleeps.push(ms) });
  const g = fx.gateway;
  expect(await g.auth.authenticateSmtp("127.0.0.9", "app1", "right password", "")).toEqual({ username: "app1", accountId: "acct" });
  // Reservations would show as pending rows while the logins run, and busy ones would wait.
  const kinds = await Promise.all(Array.from({ length: 20 }, () => kindOf(g.auth.authenticateSmtp("127.0.0.9", "app1", "right password", ""))));
  expect(kinds).toEqual(Array(20).fill("ok"));
  expect(sleeps).toEqual([]);
  expect((await fx.client.execute("SELECT count(*) AS n FROM auth_failures")).rows[0]!.n).toBe(0);
});

test("a known password takes the counted way after a failure, and is refused while the pair is blocked", async () => {
  const sleeps: number[] = [];
  fx = await gatewayFixture({ sleep: async (ms) => void sleeps.push(ms) });
  const g = fx.gateway;
  expect(await kindOf(g.auth.authenticateSmtp("127.0.0.10", "app1", "right password", ""))).toBe("ok");
  expect(await kindOf(g.auth.authenticateSmtp("127.0.0.10", "app1", "wrong", ""))).toBe("unauthenticated");
  // One failure counted: the next login is delayed like any other, known password or not.
  expect(await kindOf(g.auth.authenticateSmtp("127.0.0.10", "app1", "right password", ""))).toBe("ok");
  expect(sleeps).toContain(THROTTLE.delayStepMs);
  for (let i = 0; i < THROTTLE.blockPairAfter; i++) await kindOf(g.auth.authenticateSmtp("127.0.0.10", "app1", `guess-${i}`, ""));
  expect(await kindOf(g.auth.authenticateSmtp("127.0.0.10", "app1", "right password", ""))).toBe("auth-throttled");
});
