/**
 * Several processes on one database: two gateways on one real libSQL server (sqld) keep
 * limits exact, an ingress-only node hands off to a gateway in another process, and kill -9
 * loses nothing that was acknowledged.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { addTenant, openDb, removeDir, startRelay, tempDir, type Relay } from "../support/relay.ts";
import { PY_PRELUDE, python } from "../support/python.ts";
import { startSharedDb, type SharedDb } from "../support/shared-db.ts";
import { waitFor } from "../support/wait.ts";

const started: Relay[] = [];
const databases: SharedDb[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const r of started.splice(0)) await r.stop();
  for (const d of databases.splice(0)) await d.sqld.stop();
  for (const d of dirs.splice(0)) removeDir(d);
});

async function relayIn(dir: string, env: Record<string, string> = {}): Promise<Relay> {
  const r = await startRelay(dir, env);
  started.push(r);
  return r;
}

const submit = (relay: Relay, key: string, n: number) =>
  fetch(`${relay.http}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}` },
    body: JSON.stringify({ from: "alice@example.com", to: [`r${n}@dest.test`], subject: `m${n}`, text: "x".repeat(200) }),
  });

describe("two gateway processes on one database", () => {
  test("admit exactly the daily limit under concurrent submissions", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const shared = await startSharedDb(dir);
    databases.push(shared);
    const tenant = await addTenant(dir, { limits: ["--per-day", "25"], env: shared.env });
    const [a, b] = [await relayIn(dir, shared.env), await relayIn(dir, shared.env)];
    const results = await Promise.all(Array.from({ length: 80 }, (_, i) => submit(i % 2 ? a : b, tenant.apiKey, i)));
    const codes = results.map((r) => r.status);
    expect(codes.filter((c) => c === 202)).toHaveLength(25);
    expect(codes.filter((c) => c === 429)).toHaveLength(55);
    const limited = results.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    const db = openDb(shared.url);
    expect(Number((await db.execute("SELECT count(*) AS n FROM messages")).rows[0]!.n)).toBe(25);
    db.close();
  }, 60_000);

  test("the per-minute limit answers SMTP with 451 4.7.1 and when to retry", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const tenant = await addTenant(dir, { limits: ["--per-minute", "2"] });
    const relay = await relayIn(dir, { SMARTHOST_ALLOW_INSECURE_AUTH: "true" });
    const r = await python<[number, string][]>(
      `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.login(sys.argv[2], sys.argv[3])
res = []
for i in range(3):
    code, text = s.mail('alice@example.com')
    if code != 250:
        res.append([code, text.decode()]); s.rset(); continue
    s.rcpt('b@dest.test')
    code, text = s.data('From: alice@example.com\\r\\n\\r\\nm\\r\\n')
    res.append([code, text.decode()])
out(res)`,
      [relay.smtpPort, tenant.username, tenant.password],
    );
    expect(r.map((x) => x[0])).toEqual([250, 250, 451]);
    expect(r[2]![1]).toMatch(/^4\.7\.1 .*try again in \d+ seconds/);
  }, 30_000);
});

/** A gateway process and an ingress-only node (no database of its own) handing off to it. */
async function gatewayWithIngress(gatewayToken: string, ingressToken: string) {
  const dir = tempDir();
  const ingressDir = tempDir();
  dirs.push(dir, ingressDir);
  const tenant = await addTenant(dir);
  const gateway = await relayIn(dir, { SMARTHOST_GATEWAY_TOKEN: gatewayToken });
  const ingress = await relayIn(ingressDir, {
    SMARTHOST_GATEWAY_URL: gateway.http,
    SMARTHOST_GATEWAY_TOKEN: ingressToken,
    SMARTHOST_DB_URL: "file:/nonexistent/never-opened.db",
    SMARTHOST_HTTP_LISTEN: "",
  });
  return { tenant, gateway, ingress };
}

describe("ingress-only node", () => {
  test("a message submitted over SMTP to the ingress node is committed by the gateway process", async () => {
    const { tenant, gateway, ingress } = await gatewayWithIngress("shared-secret-token-0123456789abcdefgh", "shared-secret-token-0123456789abcdefgh");
    expect(ingress.logs()).toContain('"mode":"ingress-only"');
    const r = await python<{ bad: number; ok: [number, string] }>(
      `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.starttls(context=ctx)
s.login(sys.argv[2], sys.argv[3])
bad = s.mail('alice@not-allowed.test')[0]
s.rset()
s.mail('alice@example.com')
s.rcpt('bob@dest.test')
code, text = s.data('From: alice@example.com\\r\\nSubject: via ingress\\r\\n\\r\\nhello\\r\\n')
out({'bad': bad, 'ok': [code, text.decode()]})`,
      [ingress.smtpPort, tenant.username, tenant.password],
    );
    expect(r.bad).toBe(550);
    expect(r.ok[0]).toBe(250);
    const id = /queued as (\S+)/.exec(r.ok[1])![1]!;
    const db = openDb(gateway.dbUrl);
    const row = (await db.execute({ sql: "SELECT source, raw FROM messages WHERE id = ?", args: [id] })).rows[0]!;
    db.close();
    expect(row.source).toBe("smtp");
    expect(Buffer.from(row.raw as ArrayBuffer).toString()).toContain("Subject: via ingress");
  }, 30_000);

  test("refuses with 4xx, never 250, when the gateway token is wrong", async () => {
    const { tenant, ingress } = await gatewayWithIngress("right-token-0123456789abcdefghijklmnopq", "wrong-token-0123456789abcdefghijklmnopq");
    const code = await python<number>(
      `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.starttls(context=ctx)
s.ehlo()
code, _ = s.docmd('AUTH', 'PLAIN ' + base64.b64encode(('\\0' + sys.argv[2] + '\\0' + sys.argv[3]).encode()).decode())
out(code)`,
      [ingress.smtpPort, tenant.username, tenant.password],
    );
    expect(code).toBe(454);
  }, 30_000);
});

describe("crash safety", () => {
  test("kill -9 during a stream of submissions loses nothing acknowledged and leaves nothing partial", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const tenant = await addTenant(dir);
    const relay = await startRelay(dir);
    const acked: string[] = [];
    let stop = false;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          const res = await submit(relay, tenant.apiKey, w * 10_000 + i);
          if (res.status === 202) acked.push(((await res.json()) as { id: string }).id);
        } catch {
          return; // the server is gone
        }
      }
    });
    // Killed mid-stream, once enough has been acknowledged to have something to lose.
    try {
      await waitFor("40 acknowledged submissions", () => acked.length >= 40, 20_000);
    } finally {
      await relay.kill9();
      stop = true;
    }
    await Promise.all(workers);
    expect(acked.length).toBeGreaterThan(20);

    const again = await relayIn(dir);
    const db = openDb(again.dbUrl);
    const ids = new Set((await db.execute("SELECT id FROM messages")).rows.map((r) => r.id as string));
    for (const id of acked) expect(ids.has(id)).toBe(true);
    const partial = await db.execute(
      "SELECT m.id FROM messages m LEFT JOIN recipients r ON r.message_id = m.id LEFT JOIN events e ON e.message_id = m.id AND e.type = 'accepted' WHERE r.id IS NULL OR e.id IS NULL OR length(m.raw) <> m.size",
    );
    expect(partial.rows).toHaveLength(0);
    const check = (await db.execute("PRAGMA integrity_check")).rows[0]![0];
    db.close();
    expect(check).toBe("ok");
    // It still takes mail after the restart.
    expect((await submit(again, tenant.apiKey, 1)).status).toBe(202);
    console.log(`crash test: ${acked.length} acknowledged before kill -9, all ${acked.length} found after restart`);
  }, 60_000);
});
