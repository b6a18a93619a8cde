/**
 * The gateway's handoff routes against someone who holds the gateway token (a
 * compromised ingress node): they cannot act as an account they did not authenticate as,
 * cannot replay what they captured, and malformed bodies get a 400 JSON error, never a 500.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addTenant, openDb, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { mailbox, send, session, signedPost, type CapturedRequest } from "../support/handoff.ts";

const TOKEN = "handoff-trust-token-0123456789abcdefghij";
let dir: string;
let gateway: Relay;
let mine: Tenant;
let victimAccountId: string;

beforeAll(async () => {
  dir = tempDir();
  mine = await addTenant(dir);
  await addTenant(dir, { account: "victim", username: "victimuser" });
  gateway = await startRelay(dir, { SMARTHOST_GATEWAY_TOKEN: TOKEN });
  const db = openDb(gateway.dbUrl);
  victimAccountId = String((await db.execute("SELECT id FROM accounts WHERE name = 'victim'")).rows[0]!.id);
  db.close();
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  removeDir(dir);
});

const envelope = { from: mailbox("alice@example.com"), params: { smtputf8: false }, recipients: [{ mailbox: mailbox("bob@dest.test"), params: {} }] };
const message = new TextEncoder().encode("From: alice@example.com\r\nSubject: handoff\r\n\r\nhello\r\n");

async function login(sessionId: string) {
  const r = await signedPost(gateway.http, TOKEN, "auth", { session: session(sessionId), credentials: { mechanism: "PLAIN", authzid: "", username: mine.username, password: mine.password } });
  expect(r.status).toBe(200);
  expect(r.body.ok).toBe(true);
  return r.body.principal as { username: string; accountId: string; grant: string };
}

async function messagesOf(accountId: string): Promise<number> {
  const db = openDb(gateway.dbUrl);
  const n = Number((await db.execute({ sql: "SELECT count(*) AS n FROM messages WHERE account_id = ?", args: [accountId] })).rows[0]!.n);
  db.close();
  return n;
}

describe("who is sending comes from the gateway's grant", () => {
  test("AUTH returns a principal with a grant, and the grant's own session can submit", async () => {
    const p = await login("S-own");
    expect(p.grant).toMatch(/^[\w-]+\.[\w-]{43}$/);
    const r = await signedPost(gateway.http, TOKEN, "accept", { session: session("S-own", p), envelope, id: "OWNMSG1" }, message);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true, id: "OWNMSG1" });
    expect(await messagesOf(p.accountId)).toBe(1);
  });

  test("a token holder naming another account's id is refused at MAIL, RCPT and DATA; nothing is stored", async () => {
    const p = await login("S-forge");
    const forged = [
      { ...p, accountId: victimAccountId }, // someone else's account beside a valid grant
      { username: "victimuser", accountId: victimAccountId }, // no grant at all
      { username: "victimuser", accountId: victimAccountId, grant: p.grant }, // a grant of another principal
      { username: "victimuser", accountId: victimAccountId, grant: `${p.grant.split(".")[0]}.${"A".repeat(43)}` }, // a made-up signature
    ];
    for (const principal of forged) {
      const s = session("S-forge", principal);
      const sender = await signedPost(gateway.http, TOKEN, "sender", { session: s, from: mailbox("alice@example.com"), params: { smtputf8: false } });
      const rcpt = await signedPost(gateway.http, TOKEN, "recipient", { session: s, envelope, to: mailbox("bob@dest.test"), params: {} });
      const accept = await signedPost(gateway.http, TOKEN, "accept", { session: s, envelope, id: `FORGED${forged.indexOf(principal)}` }, message);
      for (const r of [sender, rcpt, accept]) {
        expect(r.status).toBe(401);
        expect((r.body.error as { code: string }).code).toBe("bad_grant");
      }
    }
    expect(await messagesOf(victimAccountId)).toBe(0);
    expect(gateway.logs()).toContain('"event":"handoff_refused"');
  });

  test("a grant presented by another session or from another client address is refused", async () => {
    const p = await login("S-first");
    const other = await signedPost(gateway.http, TOKEN, "accept", { session: session("S-second", p), envelope, id: "STOLEN1" }, message);
    expect(other.status).toBe(401);
    const moved = await signedPost(gateway.http, TOKEN, "accept", { session: { ...session("S-first", p), remoteAddress: "127.0.0.9" }, envelope, id: "STOLEN2" }, message);
    expect(moved.status).toBe(401);
    const db = openDb(gateway.dbUrl);
    expect((await db.execute("SELECT count(*) AS n FROM messages WHERE id LIKE 'STOLEN%'")).rows[0]!.n).toBe(0);
    db.close();
  });
});

describe("requests are signed, fresh and used once", () => {
  test("a captured request sent again is refused", async () => {
    const first = await signedPost(gateway.http, TOKEN, "auth", { session: session("S-replay"), credentials: { mechanism: "PLAIN", authzid: "", username: mine.username, password: mine.password } });
    expect(first.status).toBe(200);
    const again = await send(first.request);
    expect(again.status).toBe(401);
    expect(again.body).toEqual({ error: { code: "replayed_request", message: "Request was already received" } });
  });

  test("a request signed with another token, unsigned, or with its body changed is refused", async () => {
    const body = { session: session("S-sig") };
    const wrong = await signedPost(gateway.http, "another-token-0123456789abcdefghijklmnop", "identify", body);
    expect(wrong.status).toBe(401);
    expect((wrong.body.error as { code: string }).code).toBe("bad_signature");
    const ok = await signedPost(gateway.http, TOKEN, "identify", body);
    const tampered: CapturedRequest = { ...ok.request, headers: { ...ok.request.headers, "x-smarthost-nonce": "AAAAAAAAAAAAAAAAAAAAAA" } };
    expect((await send(tampered)).status).toBe(401);
    const changed: CapturedRequest = { ...ok.request, body: new TextEncoder().encode(JSON.stringify({ session: session("S-sig2") })) };
    expect((await send(changed)).status).toBe(401);
    const unsigned = await fetch(`${gateway.http}/internal/smtp/identify`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { error: { code: string } }).error.code).toBe("unsigned");
  });
});

describe("malformed bodies get 400 with a JSON error", () => {
  const cases: [string, string, unknown][] = [
    ["not JSON", "sender", new TextEncoder().encode("{not json")],
    ["no session", "sender", { from: null, params: { smtputf8: false } }],
    ["session of the wrong shape", "identify", { session: { sessionId: 42 } }],
    ["credentials missing", "auth", { session: session("S-bad") }],
    ["an address with a line break", "sender", { session: session("S-bad"), from: mailbox("a@b.test\r\nRCPT TO:<x@y.test>"), params: { smtputf8: false } }],
    ["an address that does not parse", "recipient", { session: session("S-bad"), envelope, to: { address: "no-at-sign" }, params: {} }],
    ["a bad NOTIFY", "recipient", { session: session("S-bad"), envelope, to: mailbox("bob@dest.test"), params: { notify: ["SOMETIMES"] } }],
    ["an array", "identify", []],
    ["null", "identify", null],
  ];
  for (const [what, step, body] of cases) {
    test(`${step}: ${what}`, async () => {
      const r = await signedPost(gateway.http, TOKEN, step, body);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: expect.stringMatching(/^invalid_(json|body)$/), message: expect.any(String) });
    });
  }

  test("accept: no JSON line, a bad id, an envelope missing", async () => {
    const p = await login("S-badaccept");
    const noLine = await signedPost(gateway.http, TOKEN, "accept", new TextEncoder().encode("just bytes"));
    expect(noLine.status).toBe(400);
    const badId = await signedPost(gateway.http, TOKEN, "accept", { session: session("S-badaccept", p), envelope, id: "../../x" }, message);
    expect(badId.status).toBe(400);
    const noEnvelope = await signedPost(gateway.http, TOKEN, "accept", { session: session("S-badaccept", p), id: "NOENV1" }, message);
    expect(noEnvelope.status).toBe(400);
    expect(gateway.logs()).not.toContain('"event":"http_error"');
  });
});
