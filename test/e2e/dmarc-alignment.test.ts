/**
 * DMARC alignment at submission, end to end: the real relay with a DKIM key for one
 * domain, SMARTHOST_SENDING_IPS published in another domain's SPF by a DNS server on
 * loopback, a relay route for one recipient domain, and two accounts — one warned, one
 * (`--require-alignment on`) refused over HTTP and over SMTP (Python's smtplib).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { adminClient, postMessage } from "../support/api.ts";
import { startDns, type DnsServer } from "../support/dns-server.ts";
import { PY_PRELUDE, python } from "../support/python.ts";
import { addTenant, cli, cliOk, openDb, removeDir, startRelay, tempDir, type Relay, type Tenant } from "../support/relay.ts";
import { waitFor } from "../support/wait.ts";

const SECRET_KEY = Buffer.alloc(32, 11).toString("base64");
const TOKEN = "admin-token-for-alignment-0123456789abcdef";
// A documentation address (RFC 5737): only published, never connected to.
const SENDING_IP = "192.0.2.25";

let dir: string;
let dns: DnsServer;
let relay: Relay;
let warned: Tenant;
let strict: Tenant;
const admin = adminClient(() => relay.http, TOKEN);

beforeAll(async () => {
  dir = tempDir();
  dns = await startDns({ txt: { "spf.test": [[`v=spf1 ip4:${SENDING_IP} -all`]], "other.test": [["v=spf1 ip4:198.51.100.1 -all"]] } });
  const env = { SMARTHOST_SECRET_KEY: SECRET_KEY };
  warned = await addTenant(dir);
  strict = await addTenant(dir, { account: "strict", username: "bob" });
  for (const account of ["acme", "strict"]) {
    for (const domain of ["signed.test", "news.signed.test", "spf.test", "other.test"]) await cliOk(dir, ["sender", "allow", account, domain], env);
  }
  await cliOk(dir, ["dkim", "add", "signed.test", "--selector", "s1"], env);
  await cliOk(dir, ["dkim", "activate", "signed.test", "s1"], env);
  await cliOk(dir, ["route", "add", "relayed.test", "smtp://127.0.0.1:9"], env);
  await cliOk(dir, ["account", "update", "strict", "--require-alignment", "on"], env);
  relay = await startRelay(dir, { ...env, SMARTHOST_DNS_SERVERS: dns.address, SMARTHOST_SENDING_IPS: SENDING_IP, SMARTHOST_ADMIN_TOKEN: TOKEN });
}, 60_000);

afterAll(async () => {
  await relay?.stop();
  await dns?.close();
  if (dir) removeDir(dir);
});

const message = (from: string, to = "bob@example.org") => ({ from, to: [to], subject: "Hello", text: "Hello" });

async function send(t: Tenant, from: string, to?: string): Promise<{ status: number; body: any }> {
  const res = await postMessage(relay.http, t.apiKey, message(from, to));
  return { status: res.status, body: await res.json() };
}

/** The account's stored messages. */
async function storedCount(account: string): Promise<number> {
  const db = openDb(relay.dbUrl);
  try {
    const rs = await db.execute({ sql: "SELECT count(*) AS n FROM messages m JOIN accounts a ON a.id = m.account_id WHERE a.name = ?", args: [account] });
    return Number(rs.rows[0]!.n);
  } finally {
    db.close();
  }
}

/** One message through smtplib (STARTTLS, AUTH); the reply to the end of DATA. */
function smtpSend(t: Tenant, from: string): Promise<{ code: number; text: string }> {
  return python(
    `${PY_PRELUDE}
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.starttls(context=ctx)
s.login(sys.argv[2], sys.argv[3])
msg = ('From: <%s>\\r\\nTo: <bob@example.org>\\r\\nSubject: Hi\\r\\nMessage-ID: <a1@%s>\\r\\n\\r\\nHi\\r\\n' % (sys.argv[4], sys.argv[4].split('@')[1])).encode()
try:
    s.sendmail(sys.argv[4], ['bob@example.org'], msg)
    out({'code': 250, 'text': ''})
except smtplib.SMTPDataError as e:
    out({'code': e.smtp_code, 'text': e.smtp_error.decode()})
s.quit()`,
    [relay.smtpPort, t.username, t.password, from],
  );
}

describe("an account that does not require alignment", () => {
  test("From: a domain with an active DKIM key: accepted without a warning", async () => {
    const r = await send(warned, "alice@signed.test");
    expect(r).toEqual({ status: 202, body: { id: expect.any(String), status: "queued", suppressed: [] } });
  });

  test("From: a subdomain signed by its organizational domain's key: no warning", async () => {
    const r = await send(warned, "alice@news.signed.test");
    expect(r.status).toBe(202);
    expect(r.body.warnings).toBeUndefined();
  });

  test("no key, and SPF of the envelope domain authorizes SMARTHOST_SENDING_IPS for MX delivery: no warning", async () => {
    const r = await send(warned, "alice@spf.test");
    expect(r.status).toBe(202);
    expect(r.body.warnings).toBeUndefined();
  });

  test("no key and no SPF that covers this relay: accepted, with a warning in the 202 and one log line", async () => {
    const r = await send(warned, "alice@other.test");
    expect(r.status).toBe(202);
    expect(r.body.warnings).toEqual([{ code: "dmarc_unaligned", message: expect.stringContaining("From: domain other.test will not align for DMARC") }]);
    expect(r.body.warnings[0].message).toContain("SPF of other.test does not authorize");
    const line = await waitFor("the dmarc_unaligned log line", () => relay.logs().split("\n").find((l) => l.includes('"dmarc_unaligned"') && l.includes(r.body.id)));
    expect(JSON.parse(line)).toMatchObject({ event: "dmarc_unaligned", message_id: r.body.id, from_domain: "other.test", dkim: "no_key", spf: "spf_fail", refused: false });
    expect(await storedCount("acme")).toBeGreaterThanOrEqual(4);
  });

  test("SPF that would align does not count for mail leaving through a provider relay", async () => {
    const r = await send(warned, "alice@spf.test", "carol@relayed.test");
    expect(r.status).toBe(202);
    expect(r.body.warnings).toEqual([{ code: "dmarc_unaligned", message: expect.stringContaining("provider relay") }]);
  });
});

describe("an account with --require-alignment on", () => {
  test("account show, account list and the admin API show the setting", async () => {
    expect((await cliOk(dir, ["account", "show", "strict", "--json"])).includes('"require_alignment":true')).toBe(true);
    const shown = await cli(dir, ["account", "show", "strict"]);
    expect(shown.stdout).toContain("alignment:   required");
    const list = JSON.parse(await cliOk(dir, ["account", "list", "--json"])) as { name: string; require_alignment: boolean }[];
    expect(list.map((a) => [a.name, a.require_alignment])).toEqual([["acme", false], ["strict", true]]);
    expect((await admin("GET", "/accounts/strict")).body.require_alignment).toBe(true);
    expect((await admin("GET", "/accounts")).body.map((a: { require_alignment: boolean }) => a.require_alignment)).toEqual([false, true]);
  });

  test("HTTP: unaligned mail is refused with 422 dmarc_unaligned and nothing is stored", async () => {
    const before = await storedCount("strict");
    const r = await send(strict, "alice@other.test");
    expect(r).toEqual({ status: 422, body: { error: { code: "dmarc_unaligned", message: expect.stringContaining("From: domain other.test will not align for DMARC") } } });
    expect(await storedCount("strict")).toBe(before);
  });

  test("SMTP: unaligned mail is refused 550 5.7.26 at the end of DATA and nothing is stored", async () => {
    const before = await storedCount("strict");
    const r = await smtpSend(strict, "alice@other.test");
    expect(r.code).toBe(550);
    expect(r.text).toStartWith("5.7.26 From: domain other.test will not align for DMARC");
    expect(await storedCount("strict")).toBe(before);
  });

  test("aligned mail still goes through: a DKIM key over SMTP, SPF over HTTP", async () => {
    expect(await smtpSend(strict, "alice@signed.test")).toEqual({ code: 250, text: "" });
    const r = await send(strict, "alice@spf.test");
    expect(r.status).toBe(202);
    expect(r.body.warnings).toBeUndefined();
  });

  test("the admin API turns it off: the same message is then accepted with the warning", async () => {
    const patched = await admin("PATCH", "/accounts/strict", { require_alignment: false });
    expect(patched).toEqual({ status: 200, body: expect.objectContaining({ name: "strict", require_alignment: false }) });
    // The account's settings are cached for a few seconds by the gateway.
    const r = await waitFor("the setting to take effect", async () => {
      const sent = await send(strict, "alice@other.test");
      return sent.status === 202 ? sent : undefined;
    });
    expect(r.body.warnings).toEqual([{ code: "dmarc_unaligned", message: expect.any(String) }]);
  });
});
