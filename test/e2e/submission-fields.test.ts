/**
 * Mail that leaves is well-formed (RFC 6409 §8): a message submitted without Date: or
 * Message-ID: (Python's smtplib, POST /v1/messages/raw) reaches a real smtp-server upstream
 * with both, the Message-ID on the relay's hostname, and its DKIM signature verifies; one
 * with both arrives with them byte for byte. Mail submitted over HTTP carries a Received:
 * naming the client's address and the API key's id, never the key.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dkimVerify } from "mailauth";
import { cli } from "../support/relay.ts";
import { postJson, printedRecords, startSigningRelay, type SigningRelay } from "../support/dkim-relay.ts";
import { smtplibSend } from "../support/python.ts";
import { waitFor } from "../support/wait.ts";

let s: SigningRelay;
let records: Record<string, string> = {};
beforeAll(async () => {
  s = await startSigningRelay(async (dir, env) => {
    // The test client is its own TLS-terminating proxy: what it says in X-Forwarded-* counts.
    env.SMARTHOST_TRUSTED_PROXIES = "127.0.0.1";
    const r = await cli(dir, ["dkim", "add", "example.com", "--selector", "sf"], env);
    if (r.code !== 0) throw new Error(r.stderr);
    records = printedRecords(r.stdout);
  });
});
afterAll(async () => {
  await s?.stop();
});

const b64 = (x: string) => Buffer.from(x).toString("base64");
const resolver = async (name: string) => (records[name] ? [[records[name]]] : Promise.reject(Object.assign(new Error("nx"), { code: "ENOTFOUND" })));
const keyId = () => /^sh_([A-Za-z0-9]{8})_/.exec(s.tenant.apiKey)![1]!;

/** The message the upstream got with this Subject. */
const arrived = (subject: string) => waitFor(`delivery of "${subject}"`, () => s.upstream.received.find((m) => m.raw.includes(`Subject: ${subject}\r\n`))?.raw);

/** Unfolded values of a field in the header block. */
function fields(raw: Buffer, name: string): string[] {
  const head = raw.toString("latin1").split("\r\n\r\n")[0]!.replace(/\r\n(?=[ \t])/g, "");
  return head.split("\r\n").filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(name.length + 1).trim());
}

async function expectSigned(raw: Buffer): Promise<void> {
  const v = await dkimVerify(raw, { resolver });
  expect(v.results.map((x) => x.status.result)).toEqual(["pass"]);
  // The added fields are among those signed.
  expect(fields(raw, "DKIM-Signature")[0]).toMatch(/h=[^;]*Date:[^;]*Message-ID/);
}

function expectAdded(raw: Buffer, id: string): void {
  expect(fields(raw, "Message-ID")).toEqual([`<${id}@relay.test>`]);
  const dates = fields(raw, "Date");
  expect(dates).toHaveLength(1);
  expect(dates[0]).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
  expect(Math.abs(Date.parse(dates[0]!) - Date.now())).toBeLessThan(120_000);
}

const WITH_BOTH = (subject: string) =>
  `From: alice@example.com\r\nTo: bob@dest.test\r\nDate: Sun, 6 Dec 2026 08:00:00 +0100\r\nMessage-id:\r\n <own.${subject}@mua.example.com>\r\nSubject: ${subject}\r\n\r\nbody\r\n`;

describe("Date: and Message-ID: where the sender wrote none", () => {
  test("SMTP (Python smtplib): both added, Message-ID <queue id@SMARTHOST_HOSTNAME>, DKIM verifies", async () => {
    const reply = await smtplibSend(s.relay.smtpPort, s.tenant.username, s.tenant.password, "alice@example.com", ["bob@dest.test"], "From: alice@example.com\r\nTo: bob@dest.test\r\nSubject: sf-smtp-bare\r\n\r\nno date, no id\r\n");
    const id = /queued as (\S+)/.exec(reply)![1]!;
    const raw = await arrived("sf-smtp-bare");
    expectAdded(raw, id);
    await expectSigned(raw);
  }, 30_000);

  test("HTTP raw: both added, DKIM verifies", async () => {
    const r = await postJson(s.relay, s.tenant.apiKey, "/v1/messages/raw", { mail_from: "alice@example.com", rcpt_to: ["bob@dest.test"], raw: b64("From: alice@example.com\r\nTo: bob@dest.test\r\nSubject: sf-raw-bare\r\n\r\nno date, no id\r\n") });
    expect(r.status).toBe(202);
    const raw = await arrived("sf-raw-bare");
    expectAdded(raw, r.body.id);
    await expectSigned(raw);
  }, 30_000);
});

describe("Date: and Message-ID: the sender wrote are kept byte for byte", () => {
  test("SMTP (Python smtplib): the sender's header block arrives unchanged after the trace and signature", async () => {
    const sent = WITH_BOTH("sf-smtp-both");
    await smtplibSend(s.relay.smtpPort, s.tenant.username, s.tenant.password, "alice@example.com", ["bob@dest.test"], sent);
    const raw = (await arrived("sf-smtp-both")).toString("latin1");
    expect(raw.endsWith(sent)).toBe(true);
    expect(fields(Buffer.from(raw, "latin1"), "Message-ID")).toEqual(["<own.sf-smtp-both@mua.example.com>"]);
    expect(fields(Buffer.from(raw, "latin1"), "Date")).toEqual(["Sun, 6 Dec 2026 08:00:00 +0100"]);
  }, 30_000);

  test("HTTP raw: the same", async () => {
    const sent = WITH_BOTH("sf-raw-both");
    const r = await postJson(s.relay, s.tenant.apiKey, "/v1/messages/raw", { mail_from: "alice@example.com", rcpt_to: ["bob@dest.test"], raw: b64(sent) });
    expect(r.status).toBe(202);
    const raw = await arrived("sf-raw-both");
    expect(raw.toString("latin1").endsWith(sent)).toBe(true);
    await expectSigned(raw);
  }, 30_000);
});

describe("Received: for mail submitted over HTTP", () => {
  test("raw: names the client's address, the key's id and the queue id, never the key", async () => {
    const r = await postJson(s.relay, s.tenant.apiKey, "/v1/messages/raw", { mail_from: "alice@example.com", rcpt_to: ["bob@dest.test"], raw: b64("From: alice@example.com\r\nSubject: sf-raw-trace\r\n\r\nx\r\n") });
    expect(r.status).toBe(202);
    const raw = await arrived("sf-raw-trace");
    const received = fields(raw, "Received");
    expect(received).toHaveLength(1);
    expect(received[0]).toMatch(new RegExp(`^from \\[127\\.0\\.0\\.1\\] \\(key ${keyId()}\\)\\tby relay\\.test \\(smarthost\\) with HTTP id ${r.body.id}\\tfor <bob@dest\\.test>;\\t\\w{3}, \\d{2} \\w{3} \\d{4} [\\d:]{8} \\+0000$`));
    expect(raw.toString("latin1")).not.toContain(s.tenant.apiKey);
    expect(raw.toString("latin1")).not.toContain(s.tenant.apiKey.slice(12));
  }, 30_000);

  test("behind a trusted proxy that took TLS: the client it names and HTTPS", async () => {
    const res = await fetch(`${s.relay.http}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.tenant.apiKey}`, "x-forwarded-for": "198.51.100.20", "x-forwarded-proto": "https" },
      body: JSON.stringify({ from: "alice@example.com", to: ["bob@dest.test"], subject: "sf-proxied-trace", text: "hello" }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const received = fields(await arrived("sf-proxied-trace"), "Received");
    expect(received[0]).toStartWith(`from [198.51.100.20] (key ${keyId()})\tby relay.test (smarthost) with HTTPS id ${id}\tfor <bob@dest.test>;\t`);
  }, 30_000);

  test("JSON: the same trace, several recipients not named; one Date: and one Message-ID: (the composer's)", async () => {
    const r = await postJson(s.relay, s.tenant.apiKey, "/v1/messages", { from: "alice@example.com", to: ["bob@dest.test"], cc: ["carol@dest.test"], subject: "sf-json-trace", text: "hello" });
    expect(r.status).toBe(202);
    const raw = await arrived("sf-json-trace");
    const received = fields(raw, "Received");
    expect(received).toHaveLength(1);
    expect(received[0]).toStartWith(`from [127.0.0.1] (key ${keyId()})\tby relay.test (smarthost) with HTTP id ${r.body.id};\t`);
    expect(fields(raw, "Message-ID")).toHaveLength(1);
    expect(fields(raw, "Date")).toHaveLength(1);
    expect(raw.toString("latin1")).not.toContain(s.tenant.apiKey);
    await expectSigned(raw);
  }, 30_000);
});

test("batch: each message its own Received: with its own queue id", async () => {
  const items = ["sf-batch-1", "sf-batch-2"].map((subject) => ({ from: "alice@example.com", to: ["bob@dest.test"], subject, text: "x" }));
  const r = await postJson(s.relay, s.tenant.apiKey, "/v1/messages/batch", items);
  expect(r.status).toBe(200);
  const ids = (r.body.data as { id: string }[]).map((d) => d.id);
  for (const [i, subject] of ["sf-batch-1", "sf-batch-2"].entries()) {
    const received = fields(await arrived(subject), "Received");
    expect(received).toHaveLength(1);
    expect(received[0]).toStartWith(`from [127.0.0.1] (key ${keyId()})\tby relay.test (smarthost) with HTTP id ${ids[i]}\tfor <bob@dest.test>;`);
  }
}, 30_000);

test("start-up logs one warning line when SMARTHOST_HOSTNAME will not do for other servers (relay.test: special-use)", () => {
  const warnings = s.relay.logs().split("\n").filter((l) => l.includes('"event":"hostname_warning"'));
  expect(warnings).toHaveLength(1);
  expect(JSON.parse(warnings[0]!)).toMatchObject({ hostname: "relay.test", problem: "a special-use name that does not resolve outside this network" });
});
