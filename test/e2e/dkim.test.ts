/** DKIM through the running relay: keys made by the CLI sign what is accepted; a repeated From/Subject/Date is refused. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dkimVerify } from "mailauth";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { cli, openDb, removeDir, tempDir } from "../support/relay.ts";
import { postJson, printedRecords, startSigningRelay, type SigningRelay } from "../support/dkim-relay.ts";
import { RawSmtp } from "../support/smtp-client.ts";
import { waitFor } from "../support/wait.ts";
import { startDns, type DnsServer } from "../support/dns-server.ts";

let s: SigningRelay;
let records: Record<string, string> = {};
let addOutput = "";
// Answers every lookup at once with no records, so a pending selector stays pending.
let dns: DnsServer;
beforeAll(async () => {
  dns = await startDns({});
  s = await startSigningRelay(async (dir, env) => {
    env.SMARTHOST_ALLOW_INSECURE_AUTH = "true";
    env.SMARTHOST_DNS_SERVERS = dns.address;
    const r = await cli(dir, ["dkim", "add", "example.com", "--selector", "e2e"], env);
    if (r.code !== 0) throw new Error(r.stderr);
    addOutput = r.stdout + r.stderr;
    records = printedRecords(r.stdout);
  });
});
afterAll(async () => {
  await s?.stop();
  await dns?.close();
});

const b64 = (x: string) => Buffer.from(x).toString("base64");
const resolver = async (name: string) => (records[name] ? [[records[name]]] : Promise.reject(Object.assign(new Error("nx"), { code: "ENOTFOUND" })));

async function smtpData(message: string): Promise<string> {
  const c = await RawSmtp.open(s.relay.smtpPort);
  try {
    await c.replies(1);
    for (const line of ["EHLO dkim.test", `AUTH PLAIN ${b64(`\0${s.tenant.username}\0${s.tenant.password}`)}`, "MAIL FROM:<alice@example.com>", "RCPT TO:<bob@dest.test>", "DATA"]) {
      c.write(`${line}\r\n`);
      await c.replies(1);
    }
    c.write(`${message}.\r\n`);
    return (await c.replies(1))[0]!;
  } finally {
    c.close();
  }
}

describe("signing", () => {
  test("dkim add prints the record and never the private key; the message arrives signed and verifies", async () => {
    expect(Object.keys(records)).toEqual(["e2e._domainkey.example.com"]);
    expect(addOutput).not.toContain("PRIVATE KEY");
    const reply = await smtpData("From: alice@example.com\r\nTo: bob@dest.test\r\nSubject: e2e\r\n\r\nsigned body\r\n");
    expect(reply).toStartWith("250 2.0.0");
    await waitFor("delivery", () => s.upstream.received.length >= 1 || undefined);
    const got = s.upstream.received[0]!.raw;
    expect(got.toString()).toStartWith("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com;");
    const v = await dkimVerify(got, { resolver });
    expect(v.results.map((x) => x.status.result)).toEqual(["pass"]);
    // What is stored is what went out: a retry sends the same signature.
    const db = openDb(s.relay.dbUrl);
    const stored = (await db.execute("SELECT raw FROM messages")).rows[0]!.raw as ArrayBuffer;
    db.close();
    expect(Buffer.from(stored).equals(got)).toBe(true);
  }, 30_000);

  test("dkim list --json shows the key's state and record, no private key", async () => {
    const r = await cli(s.dir, ["dkim", "list", "--json"], s.env);
    expect(r.code).toBe(0);
    const keys = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(keys.map((k) => [k.domain, k.selector, k.algorithm, k.state])).toEqual([["example.com", "e2e", "rsa", "active"]]);
    expect(Object.keys(keys[0]!).sort()).toEqual(["activated_at", "algorithm", "created_at", "domain", "record", "retired_at", "selector", "state"]);
  });

  test("dkim rotate makes a pending selector and prints its record; dkim remove refuses an unknown selector", async () => {
    const r = await cli(s.dir, ["dkim", "rotate", "example.com", "--selector", "next"], s.env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("example.com next (rsa) made, pending until this record is published");
    expect(Object.keys(printedRecords(r.stdout))).toEqual(["next._domainkey.example.com"]);
    const list = JSON.parse((await cli(s.dir, ["dkim", "list", "--json"], s.env)).stdout) as { selector: string; state: string }[];
    expect(list.map((k) => `${k.selector} ${k.state}`)).toEqual(["e2e active", "next pending"]);
    const gone = await cli(s.dir, ["dkim", "remove", "example.com", "nope"], s.env);
    expect([gone.code, gone.stderr.trim()]).toEqual([1, 'error: no DKIM selector "nope" for example.com']);
    expect((await cli(s.dir, ["dkim", "remove", "example.com", "next"], s.env)).code).toBe(0);
  });

  test("without SMARTHOST_SECRET_KEY, dkim add seals the private key with the data folder's key", async () => {
    const dir = tempDir();
    try {
      const env = { SMARTHOST_DB_URL: `file:${join(dir, "k.db")}`, SMARTHOST_DATA_DIR: join(dir, "data"), SMARTHOST_SECRET_KEY: "" };
      const r = await cli(dir, ["dkim", "add", "other.test", "--selector", "k1"], env);
      expect(r.code).toBe(0);
      expect(existsSync(join(dir, "data", "secret.key"))).toBe(true);
      const db = openDb(env.SMARTHOST_DB_URL);
      const row = (await db.execute("SELECT private_key FROM dkim_keys WHERE selector = 'k1'")).rows[0]!;
      db.close();
      expect(String(row.private_key)).toStartWith("enc:v1:");
      expect(String(row.private_key)).not.toContain("PRIVATE KEY");
    } finally {
      removeDir(dir);
    }
  });
});

describe("fields that may occur once", () => {
  test("two Subject: over SMTP → 550 5.6.0, two Date: over HTTP raw → 400 duplicate_header; nothing stored", async () => {
    const count = async () => {
      const db = openDb(s.relay.dbUrl);
      const n = Number((await db.execute("SELECT count(*) AS n FROM messages")).rows[0]!.n);
      db.close();
      return n;
    };
    const before = await count();
    const reply = await smtpData("From: alice@example.com\r\nSubject: one\r\nSubject: two\r\n\r\nx\r\n");
    expect(reply).toStartWith("550 5.6.0");
    const raw = "From: alice@example.com\r\nDate: Sun, 29 Nov 2026 08:00:00 +0000\r\nDate: Mon, 30 Nov 2026 08:00:00 +0000\r\n\r\nx\r\n";
    const http = await postJson(s.relay, s.tenant.apiKey, "/v1/messages/raw", { mail_from: "alice@example.com", rcpt_to: ["bob@dest.test"], raw: b64(raw) });
    expect(http.status).toBe(400);
    expect(http.body.error.code).toBe("duplicate_header");
    expect(await count()).toBe(before);
  });
});
