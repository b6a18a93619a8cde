/**
 * One-click unsubscribe at acceptance: the tokens (bound to account, message and one
 * address), the fields added (RFC 8058 §3.1, RFC 2369 §2), the warnings instead, and the
 * DKIM h= list over the result (RFC 8058 §4).
 */
import { describe, expect, test } from "bun:test";
import { createSecretBox } from "../../../src/secrets/cipher.ts";
import { makeUnsubscribeToken, readUnsubscribeToken, UNSUBSCRIBE_MAC_PURPOSE, type TokenMac } from "../../../src/suppression/unsubscribe-token.ts";
import { withListUnsubscribe, type UnsubscribeLinks } from "../../../src/gateway/list-unsubscribe.ts";
import { generateDkimKey, importSigningKey } from "../../../src/dkim/keys.ts";
import { signMessage } from "../../../src/dkim/sign.ts";
import { headerValues } from "../../../src/mime/headers.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function macWith(byte: number): Promise<TokenMac> {
  const box = await createSecretBox(Buffer.alloc(32, byte).toString("base64"));
  return (data) => box.mac(data, UNSUBSCRIBE_MAC_PURPOSE);
}

const mac = await macWith(1);
const links: UnsubscribeLinks = { baseUrl: "https://relay.example.net", mac };
const claim = { accountId: "acc1", messageId: "msg1", address: "Bob@dest.test" };

describe("unsubscribe tokens", () => {
  test("a token reads back as the account, message and address it was made for", async () => {
    const token = await makeUnsubscribeToken(mac, claim);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(await readUnsubscribeToken(mac, token)).toEqual(claim);
  });

  test("another address, another account, a changed tag or another key: refused", async () => {
    const token = await makeUnsubscribeToken(mac, claim);
    const [, tag] = token.split(".");
    const b64 = (s: string) => Buffer.from(s).toString("base64url");
    // The other recipient's address with this token's tag: the tag covers the address.
    expect(await readUnsubscribeToken(mac, `${b64("1\nacc1\nmsg1\ncarol@dest.test")}.${tag}`)).toBeNull();
    expect(await readUnsubscribeToken(mac, `${b64("1\nacc2\nmsg1\nBob@dest.test")}.${tag}`)).toBeNull();
    const flipped = tag!.startsWith("A") ? `B${tag!.slice(1)}` : `A${tag!.slice(1)}`;
    expect(await readUnsubscribeToken(mac, `${token.split(".")[0]}.${flipped}`)).toBeNull();
    expect(await readUnsubscribeToken(await macWith(2), token)).toBeNull();
    for (const bad of ["", "x", "a.b", `${token}x`, token.replace(".", "")]) expect(await readUnsubscribeToken(mac, bad)).toBeNull();
  });

  test("the key is derived per purpose: a MAC for another purpose is not a token's tag", async () => {
    const box = await createSecretBox(Buffer.alloc(32, 1).toString("base64"));
    const data = enc("1\nacc1\nmsg1\nBob@dest.test");
    expect(Buffer.from(await box.mac(data, "other")).equals(Buffer.from(await box.mac(data, UNSUBSCRIBE_MAC_PURPOSE)))).toBe(false);
  });
});

const base = (headers: string) => enc(`From: alice@example.com\r\nTo: bob@dest.test\r\nSubject: news\r\n${headers}\r\nHello\r\n`);
const one = [{ address: "bob@dest.test" }];
const req = (over: Partial<Parameters<typeof withListUnsubscribe>[1]> = {}) => ({ wanted: true, links, accountId: "acc1", messageId: "msg1", recipients: one, ...over });

describe("List-Unsubscribe at acceptance", () => {
  test("adds the HTTPS link for the one recipient and List-Unsubscribe-Post at the end of the header block", async () => {
    const { raw, warnings } = await withListUnsubscribe(base(""), req());
    expect(warnings).toEqual([]);
    const [list] = headerValues(raw, "list-unsubscribe");
    const m = /^<https:\/\/relay\.example\.net\/u\/([^>]+)>$/.exec(list!);
    expect(m).not.toBeNull();
    expect(await readUnsubscribeToken(mac, m![1]!)).toEqual({ accountId: "acc1", messageId: "msg1", address: "bob@dest.test" });
    expect(headerValues(raw, "list-unsubscribe-post")).toEqual(["List-Unsubscribe=One-Click"]);
    expect(dec(raw)).toEndWith("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nHello\r\n");
  });

  test("keeps the sender's mailto: after the link, drops its other URIs, and leaves a sender's own one-click alone", async () => {
    const { raw } = await withListUnsubscribe(base("List-Unsubscribe: <https://old.example.com/x>,\r\n <mailto:leave@example.com?subject=unsubscribe>\r\n"), req());
    const lists = headerValues(raw, "list-unsubscribe");
    expect(lists).toHaveLength(1);
    expect(lists[0]).toMatch(/^<https:\/\/relay\.example\.net\/u\/[^>]+>, <mailto:leave@example\.com\?subject=unsubscribe>$/);
    const own = base("List-Unsubscribe: <https://example.com/u/1>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    expect((await withListUnsubscribe(own, req())).raw).toBe(own);
  });

  test("several recipients, or no public URL: nothing added, and a warning says why", async () => {
    const two = await withListUnsubscribe(base(""), req({ recipients: [{ address: "a@dest.test" }, { address: "b@dest.test" }] }));
    expect(headerValues(two.raw, "list-unsubscribe")).toEqual([]);
    expect(two.warnings.map((w) => w.code)).toEqual(["list_unsubscribe_one_recipient"]);
    const none = await withListUnsubscribe(base(""), req({ links: undefined }));
    expect(headerValues(none.raw, "list-unsubscribe")).toEqual([]);
    expect(none.warnings.map((w) => w.code)).toEqual(["list_unsubscribe_unavailable"]);
  });

  test("off: bulk mail (Precedence: bulk or list) without List-Unsubscribe is warned about, other mail is not", async () => {
    for (const p of ["bulk", "List"]) {
      const r = await withListUnsubscribe(base(`Precedence: ${p}\r\n`), req({ wanted: false }));
      expect(r.warnings.map((w) => w.code)).toEqual(["bulk_without_unsubscribe"]);
      expect(headerValues(r.raw, "list-unsubscribe")).toEqual([]);
    }
    expect((await withListUnsubscribe(base("Precedence: bulk\r\nList-Unsubscribe: <mailto:x@example.com>\r\n"), req({ wanted: false }))).warnings).toEqual([]);
    expect((await withListUnsubscribe(base(""), req({ wanted: false }))).warnings).toEqual([]);
  });
});

describe("DKIM over the added fields (RFC 8058 §4)", () => {
  const hOf = (signed: Uint8Array) => {
    const sig = /^DKIM-Signature:(.*(?:\r\n[ \t].*)*)/im.exec(dec(signed))![1]!.replace(/\r\n[ \t]+/g, " ");
    return /(?:^|;)\s*h=([^;]+)/.exec(sig)![1]!.replace(/\s+/g, "").toLowerCase().split(":");
  };
  const count = (h: string[], name: string) => h.filter((x) => x === name).length;

  test("h= names List-Unsubscribe and List-Unsubscribe-Post, ours or the sender's, once more than they occur", async () => {
    const g = await generateDkimKey("ed25519");
    const keys = [{ domain: "example.com", selector: "s1", algorithm: "ed25519" as const, key: await importSigningKey("ed25519", g.privatePem) }];
    const ours = (await withListUnsubscribe(base(""), req())).raw;
    const theirs = base("List-Unsubscribe: <https://example.com/u/1>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    for (const m of [ours, theirs]) {
      const h = hOf(await signMessage(m, keys, new Date(0)));
      expect(count(h, "list-unsubscribe")).toBe(2);
      expect(count(h, "list-unsubscribe-post")).toBe(2);
    }
    // Absent, they are not named: a list that adds its own may still forward the message intact.
    const h = hOf(await signMessage(base(""), keys, new Date(0)));
    expect(count(h, "list-unsubscribe") + count(h, "list-unsubscribe-post")).toBe(0);
  });
});
