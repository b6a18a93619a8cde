/**
 * The dkim verbs over the admin API on a running relay: add answers with the TXT record,
 * mail accepted afterwards is signed and verifies against exactly that record, rotate makes
 * a pending selector that signs once activated, remove deletes; no answer ever holds the
 * private key (neither sealed nor in clear).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dkimVerify } from "mailauth";
import { createSecretBox } from "../../src/secrets/cipher.ts";
import { sealPurpose } from "../../src/dkim/store.ts";
import { postJson, printedRecords, SECRET_KEY, startSigningRelay, type SigningRelay } from "../support/dkim-relay.ts";
import { startDns, type DnsServer } from "../support/dns-server.ts";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { createGatewayStack } from "../../src/stack.ts";
import { GroupCommit } from "../../src/db/group-commit.ts";
import { openDatabase } from "../../src/runtime/bun-db.ts";
import { openDb, removeDir, tempDir } from "../support/relay.ts";
import { waitFor } from "../support/wait.ts";

const TOKEN = "admin-token-for-dkim-0123456789abcdef";

let s: SigningRelay;
// Answers every lookup at once with no records: a pending selector stays pending until activated.
let dns: DnsServer;
/** Every admin answer's text, to look for the private keys in. */
const answers: string[] = [];
/** The records the API answered with: what a sender publishes, what the verifier resolves. */
const records: Record<string, string> = {};

beforeAll(async () => {
  dns = await startDns({});
  s = await startSigningRelay(async (_dir, env) => {
    env.SMARTHOST_ADMIN_TOKEN = TOKEN;
    env.SMARTHOST_DNS_SERVERS = dns.address;
  });
});
afterAll(async () => {
  await s?.stop();
  await dns?.close();
});

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${s.relay.http}/v1/admin/dkim${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  answers.push(text);
  return { status: res.status, body: JSON.parse(text) };
}

function remember(keys: { record: string }[]): void {
  Object.assign(records, printedRecords(keys.map((k) => k.record).join("\n")));
}

/** Every private key stored (sealed), by domain/selector, read before any is removed. */
const stored = new Map<string, { domain: string; selector: string; sealed: string }>();
async function readStoredKeys(): Promise<void> {
  const db = openDb(s.relay.dbUrl);
  for (const r of (await db.execute("SELECT domain, selector, private_key FROM dkim_keys")).rows) stored.set(`${r.domain}/${r.selector}`, { domain: String(r.domain), selector: String(r.selector), sealed: String(r.private_key) });
  db.close();
}

const resolver = async (name: string) => (records[name] ? [[records[name]]] : Promise.reject(Object.assign(new Error("nx"), { code: "ENOTFOUND" })));

/** Sends over the HTTP API; returns the bytes the upstream received and the verifier's result. */
async function sendAndVerify(subject: string): Promise<{ selector: string | undefined; status: string | undefined }> {
  const sent = await postJson(s.relay, s.tenant.apiKey, "/v1/messages", { from: "alice@example.com", to: ["bob@dest.test"], subject, text: "signed over HTTP" });
  expect(sent.status).toBe(202);
  const got = await waitFor(subject, () => s.upstream.received.find((r) => r.raw.toString("utf8").includes(`Subject: ${subject}\r\n`)));
  const v = await dkimVerify(got.raw, { resolver });
  const r = v.results[0];
  return { selector: r?.signingDomain === "example.com" ? /s=([^;\s]+)/.exec(got.raw.toString("utf8"))?.[1] : undefined, status: r?.status.result };
}

describe("dkim over the admin API", () => {
  test("add answers with the TXT record; mail is signed and verifies against that record", async () => {
    const added = await admin("POST", "", { domain: "Example.COM", selector: "api1" });
    expect(added.status).toBe(201);
    expect(added.body).toEqual([expect.objectContaining({ domain: "example.com", selector: "api1", algorithm: "rsa", state: "active" })]);
    expect(added.body[0].record).toMatch(/^api1\._domainkey\.example\.com IN TXT "v=DKIM1; k=rsa; p=/);
    remember(added.body);
    expect(await sendAndVerify("signed one")).toEqual({ selector: "api1", status: "pass" });

    expect((await admin("GET", "?domain=example.com")).body).toEqual([expect.objectContaining({ selector: "api1", state: "active", record: added.body[0].record })]);
  });

  test("rotate makes a pending selector (still signing with the old); activate switches; the old one is retired, then removed", async () => {
    await readStoredKeys();
    const made = await admin("POST", "/example.com/rotate", { selector: "api2" });
    expect(made.status).toBe(201);
    expect(made.body).toEqual([expect.objectContaining({ selector: "api2", state: "pending" })]);
    remember(made.body);
    expect(await sendAndVerify("before activation")).toEqual({ selector: "api1", status: "pass" });

    expect((await admin("POST", "/example.com/api2/activate")).body).toMatchObject({ selector: "api2", state: "active" });
    expect((await admin("GET", "")).body.map((k: { selector: string; state: string }) => [k.selector, k.state])).toEqual([
      ["api1", "retired"],
      ["api2", "active"],
    ]);
    // Each node reads the active keys at most every 5 s (dkim/signer.ts): the switch shows within that.
    let n = 0;
    const switched = await waitFor("signing with api2", async () => {
      const r = await sendAndVerify(`after activation ${++n}`);
      expect(r.status).toBe("pass");
      return r.selector === "api2" || undefined;
    }, 15_000);
    expect(switched).toBe(true);

    await readStoredKeys();
    expect(await admin("DELETE", "/example.com/api1")).toEqual({ status: 200, body: { domain: "example.com", selector: "api1" } });
    expect(await admin("DELETE", "/example.com/api1")).toEqual({ status: 404, body: { error: { code: "not_found", message: 'no DKIM selector "api1" for example.com' } } });
  });

  test("both algorithms at once; the CLI's validation and errors, as JSON", async () => {
    const both = await admin("POST", "", { domain: "other.test", algorithm: "both", selector: "k" });
    expect(both.body.map((k: { selector: string; algorithm: string }) => [k.selector, k.algorithm])).toEqual([
      ["k-rsa", "rsa"],
      ["k-ed25519", "ed25519"],
    ]);
    expect(both.body[1].record).toMatch(/^k-ed25519\._domainkey\.other\.test IN TXT "v=DKIM1; k=ed25519; p=/);
    expect((await admin("POST", "", { domain: "other.test", selector: "k-rsa" })).status).toBe(409);
    expect(await admin("POST", "", { domain: "not a domain" })).toEqual({ status: 400, body: { error: { code: "invalid", message: '"not a domain" is not a domain name' } } });
    expect((await admin("POST", "", { domain: "x.test", algorithm: "dsa" })).body.error).toEqual({ code: "invalid_field", field: "algorithm", message: "algorithm: algorithm must be rsa, ed25519 or both" });
    expect((await admin("POST", "/nokeys.test/rotate", {})).status).toBe(409);
    expect((await admin("POST", "/example.com/nope/activate")).status).toBe(404);
  });

  test("no answer holds a private key, sealed or in clear", async () => {
    await readStoredKeys();
    expect([...stored.keys()].sort()).toEqual(["example.com/api1", "example.com/api2", "other.test/k-ed25519", "other.test/k-rsa"]);
    const box = await createSecretBox(SECRET_KEY);
    const all = answers.join("\n");
    expect(all).not.toContain("PRIVATE KEY");
    for (const r of stored.values()) {
      const pem = await box.open(r.sealed, sealPurpose(r.domain, r.selector));
      const body = pem.split("\n").filter((l) => !l.startsWith("-----")).join("");
      expect(body.length).toBeGreaterThan(40);
      // Any 40-character stretch of the key's base64, in one line or wrapped.
      expect(all.replace(/\s/g, "")).not.toContain(body.slice(10, 50));
      expect(all).not.toContain(r.sealed.slice(0, 40));
    }
  });

  test("a node without SMARTHOST_SECRET_KEY lists keys but makes none (503 no_secret_key)", async () => {
    const dir = tempDir();
    const url = `file:${join(dir, "app.db")}`;
    const database = await openDatabase(url);
    try {
      const { app } = createGatewayStack({ config: loadConfig({ SMARTHOST_DB_URL: url, SMARTHOST_ADMIN_TOKEN: TOKEN }), database, writer: new GroupCommit(database.sql), hostname: "relay.test", log: () => {} });
      const call = (method: string, body?: unknown) => app.request("/v1/admin/dkim", { method, headers: { authorization: `Bearer ${TOKEN}` }, body: body === undefined ? undefined : JSON.stringify(body) });
      const refused = await call("POST", { domain: "example.com" });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("no_secret_key");
      expect(await (await call("GET")).json()).toEqual([]);
    } finally {
      database.close();
      removeDir(dir);
    }
  });
});
