import { describe, expect, test } from "bun:test";
import { dkimVerify } from "mailauth";
import { dkimZoneLine, generateDkimKey, importSigningKey, publishedKey, type DkimAlgorithm } from "../../../src/dkim/keys.ts";
import { headerSelection, signMessage, splitMessage } from "../../../src/dkim/sign.ts";

const enc = (s: string) => new TextEncoder().encode(s);

async function keyFor(algorithm: DkimAlgorithm) {
  const g = await generateDkimKey(algorithm);
  const key = await importSigningKey(algorithm, g.privatePem);
  return { g, signing: { domain: "example.com", selector: `s-${algorithm}`, algorithm, key } };
}

async function verify(msg: Uint8Array | string, records: Record<string, string>) {
  const r = await dkimVerify(Buffer.from(msg), { resolver: async (name: string) => (records[name] ? [[records[name]]] : Promise.reject(Object.assign(new Error("nx"), { code: "ENOTFOUND" }))) });
  // mailauth says "neutral" for a body hash mismatch, "fail" for a bad header signature.
  return r.results.map((x) => x.status.result);
}

const MESSAGE = "From: Ann <ann@example.com>\r\nTo: bob@dest.test\r\nSubject: =?utf-8?q?h=C3=A9?=  with   spaces\r\n\tand a fold\r\nDate: Sun, 29 Nov 2026 08:00:00 +0000\r\nX-Other: not signed\r\n\r\nbody line  \r\n\r\n\r\n";

describe("header selection", () => {
  test("names each present field once per instance, bottom first, and over-signs From, Subject, Date, To, Cc, Message-ID, and the List-Unsubscribe fields when present", () => {
    const { fields } = splitMessage(enc("Received: a\r\nTo: x@y\r\nFrom: a@b\r\nTo: z@y\r\nSubject: s\r\nX-Mailer: m\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nb"));
    const sel = headerSelection(fields);
    expect(sel.keys).toBe("From:From:Subject:Subject:Date:Message-ID:To:To:To:Cc:List-Unsubscribe-Post:List-Unsubscribe-Post");
    expect(sel.headers.map((h) => h.line)).toEqual(["From: a@b", "Subject: s", "To: z@y", "To: x@y", "List-Unsubscribe-Post: List-Unsubscribe=One-Click"]);
  });

  test("a message with no body (no empty line) has all its fields and an empty body", () => {
    const { fields, body } = splitMessage(enc("From: a@b\r\nSubject: x\r\n"));
    expect(fields.map((f) => f.name)).toEqual(["from", "subject"]);
    expect(body.length).toBe(0);
  });
});

describe("signatures", () => {
  for (const algorithm of ["rsa", "ed25519"] as const) {
    test(`${algorithm}: verifies, and fails after a body change or an added From:`, async () => {
      const { g, signing } = await keyFor(algorithm);
      const records = { [`s-${algorithm}._domainkey.example.com`]: `v=DKIM1; k=${algorithm}; p=${g.publicKey}` };
      const signed = new TextDecoder().decode(await signMessage(enc(MESSAGE), [signing], new Date()));
      expect(signed.endsWith(MESSAGE)).toBe(true);
      expect(signed).toMatch(new RegExp(`^DKIM-Signature: v=1; a=${algorithm}-sha256; c=relaxed/relaxed; d=example\\.com;`));
      expect(await verify(signed, records)).toEqual(["pass"]);
      expect(await verify(signed.replace("body line", "body lime"), records)).not.toContain("pass");
      expect(await verify(`From: eve@evil.test\r\n${signed}`, records)).not.toContain("pass");
      expect(await verify(signed.replace("\r\n\r\nbody", "\r\nCc: eve@evil.test\r\n\r\nbody"), records)).not.toContain("pass");
      // Relaxed canonicalization: whitespace changes in transit do not matter.
      expect(await verify(signed.replace("with   spaces", "with spaces"), records)).toEqual(["pass"]);
    });
  }

  test("both keys: two signatures, each verifying; 8-bit header bytes are signed as they are", async () => {
    const rsa = await keyFor("rsa");
    const ed = await keyFor("ed25519");
    const records = {
      "s-rsa._domainkey.example.com": `v=DKIM1; k=rsa; p=${rsa.g.publicKey}`,
      "s-ed25519._domainkey.example.com": `v=DKIM1; k=ed25519; p=${ed.g.publicKey}`,
    };
    const raw = enc("From: Zoë <zoe@example.com>\r\nSubject: naïve café\r\n\r\nbody\r\n");
    const signed = await signMessage(raw, [rsa.signing, ed.signing], new Date());
    expect(await verify(signed, records)).toEqual(["pass", "pass"]);
  });

  test("no keys: the very same bytes back", async () => {
    const raw = enc(MESSAGE);
    expect(await signMessage(raw, [], new Date())).toBe(raw);
  });
});

describe("DNS records", () => {
  test("a 2048-bit RSA record is split into quoted strings of at most 255 characters that join back to the record", async () => {
    const g = await generateDkimKey("rsa");
    const line = dkimZoneLine("example.com", "sel", "rsa", g.publicKey);
    expect(line.startsWith('sel._domainkey.example.com IN TXT "v=DKIM1; k=rsa; p=')).toBe(true);
    const strings = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    expect(strings.length).toBe(2);
    expect(strings.every((s) => s.length <= 255)).toBe(true);
    expect(publishedKey(strings.join(""))).toEqual({ algorithm: "rsa", publicKey: g.publicKey });
  });

  test("an Ed25519 public key is the raw 32 bytes (RFC 8463), not SubjectPublicKeyInfo", async () => {
    const g = await generateDkimKey("ed25519");
    expect(Buffer.from(g.publicKey, "base64").length).toBe(32);
  });
});
