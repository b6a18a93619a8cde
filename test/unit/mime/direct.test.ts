/**
 * The direct MIME writer against MailComposer, both read back by mailparser: every header
 * and every part the same, on a table of the shapes the JSON API takes; shapes it does not
 * handle go to MailComposer.
 */
import { describe, expect, test } from "bun:test";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import { composeMessage, composeWithMailComposer } from "../../../src/mime/compose.ts";
import type { Composition } from "../../../src/mime/composition.ts";
import { writeMime } from "../../../src/mime/direct.ts";

const a = (address: string, name: string | null = null) => ({ address, name, domain: address.slice(address.lastIndexOf("@") + 1), utf8: /[^\x00-\x7f]/.test(address) });
const bytes = (s: string) => new TextEncoder().encode(s);
const base = (over: Partial<Composition>): Composition => ({ from: a("sender@example.com"), to: [a("to@dest.test")], cc: [], replyTo: [], headers: {}, attachments: [], messageIdDomain: "example.com", ...over });
const allBytes = Uint8Array.from({ length: 256 * 3 }, (_, i) => (i * 7) & 255);

const TABLE: [string, Composition][] = [
  ["plain text", base({ subject: "Hello", text: "Hi there.\r\nSecond line.\r\n" })],
  ["html only, long lines", base({ subject: "HTML", html: `<p>${"word ".repeat(400)}</p>\n<p>end</p>` })],
  ["text and html, unicode subject and names", base({
    from: a("news@example.com", "Zoë \"the sender\" Müller"),
    to: [a("a@dest.test", "Ω Team"), a("b@dest.test", "Smith, John"), a("c@dest.test")],
    cc: [a("cc@dest.test", "Carbon Copy")],
    replyTo: [a("reply@example.com", "Réponse")],
    subject: `Grüße aus Köln — ${"lange Betreffzeile ".repeat(6)}✉️ 🎉 日本語の件名`,
    text: "Grüße!\nDas ist ein Test mit = Zeichen und trailing spaces   \nund einer sehr langen Zeile: " + "ä".repeat(300),
    html: "<p>Grüße &amp; 日本語</p>",
  })],
  ["line endings: bare LF, bare CR, a 2 000-character line, dots", base({ subject: "endings", text: `one\ntwo\rthree\r\n.\r\n..dots\r\n${"x".repeat(2000)}\nlast` })],
  ["attachments: binary, detected type, explicit type, with text and html", base({
    subject: "files",
    text: "see attached",
    html: "<b>see attached</b>",
    attachments: [
      { filename: "data.bin", content: allBytes },
      { filename: "notes.txt", content: bytes("plain\nnotes\n") },
      { filename: "report (final) v2.pdf", contentType: "application/pdf", content: allBytes.subarray(0, 100) },
      { filename: "empty.csv", content: new Uint8Array(0) },
    ],
  })],
  ["custom headers: long ASCII folded, non-ASCII encoded, control characters", base({
    subject: "headers",
    text: "body",
    headers: { "X-Campaign": `id-${"abcdefgh ".repeat(20)}end`, "X-Label": "Ünïcödé label", "X-Ctl": "a\u0001b", "List-Unsubscribe": "<mailto:u@example.com>, <https://example.com/u?id=1>" },
  })],
  ["no subject, html only with an attachment", base({ html: "<p>x</p>", attachments: [{ filename: "a.png", content: allBytes.subarray(0, 64) }] })],
];

const addrs = (x: AddressObject | AddressObject[] | undefined) => (x === undefined ? [] : (Array.isArray(x) ? x : [x]).flatMap((o) => o.value.map((v) => [v.name, v.address])));
const header = (m: ParsedMail, name: string) => {
  const v = m.headers.get(name);
  return typeof v === "string" ? v : v === undefined ? undefined : JSON.stringify(v);
};
function view(m: ParsedMail, custom: string[]) {
  return {
    subject: m.subject,
    from: addrs(m.from),
    to: addrs(m.to),
    cc: addrs(m.cc),
    replyTo: addrs(m.replyTo),
    messageId: m.messageId,
    date: m.date?.getTime(),
    // Line breaks compared as breaks: the direct writer makes every one CRLF (a lone CR too,
    // as the relay does for raw messages), where MailComposer lets a bare LF or CR through.
    text: m.text?.replace(/\r\n|\r/g, "\n").replace(/\n$/, ""),
    html: typeof m.html === "string" ? m.html.replace(/\r\n|\r/g, "\n").replace(/\n$/, "") : m.html,
    attachments: m.attachments.map((x) => [x.filename, x.contentType, x.contentDisposition, Buffer.from(x.content).toString("hex")]),
    custom: custom.map((n) => header(m, n.toLowerCase())),
    bcc: m.bcc,
  };
}

describe("the direct writer equals MailComposer as mailparser reads them", () => {
  for (const [name, c] of TABLE) {
    test(name, async () => {
      const date = new Date(Date.UTC(2026, 10, 29, 8, 30, 0));
      const direct = writeMime(c, "<id-1@example.com>", date);
      expect(direct).not.toBeNull();
      const reference = await composeWithMailComposer(c, "<id-1@example.com>", date);
      const custom = Object.keys(c.headers);
      expect(view(await simpleParser(Buffer.from(direct!)), custom)).toEqual(view(await simpleParser(Buffer.from(reference)), custom));
      // What the relay stores and sends: CRLF lines only, none over 998 octets (RFC 5322 §2.1.1), no Bcc.
      const text = Buffer.from(direct!).toString("latin1");
      expect(text.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
      expect(Math.max(...text.split("\r\n").map((l) => l.length))).toBeLessThanOrEqual(998);
      expect(text).not.toMatch(/^bcc:/im);
    });
  }
});

describe("shapes left to MailComposer", () => {
  const fallbacks: [string, Composition][] = [
    ["a non-ASCII filename (RFC 2231)", base({ text: "x", attachments: [{ filename: "Übersicht.pdf", content: allBytes.subarray(0, 10) }] })],
    ["a filename with a quote", base({ text: "x", attachments: [{ filename: 'say "hi".txt', content: bytes("hi") }] })],
    ["an internationalized address (SMTPUTF8)", base({ to: [a("jörg@dest.test")], text: "x" })],
    ["an empty text", base({ text: "" })],
  ];
  for (const [name, c] of fallbacks) {
    test(`${name}: not written directly, and composeMessage still makes it`, async () => {
      expect(writeMime(c, "<x@example.com>", new Date())).toBeNull();
      const parsed = await simpleParser(Buffer.from(await composeMessage(c)));
      expect(parsed.attachments.map((x) => x.filename)).toEqual(c.attachments.map((x) => x.filename));
      expect(addrs(parsed.to).map((x) => x[1])).toEqual(c.to.map((x) => x.address));
    });
  }
});

describe("a text part's transfer encoding is the one MailComposer picks", () => {
  const cte = (raw: Uint8Array) => /Content-Transfer-Encoding: (\S+)/i.exec(new TextDecoder().decode(raw))?.[1]?.toLowerCase();
  const bodies: [string, string][] = [
    ["lines of 76", `${"x".repeat(76)}\n${"y".repeat(76)}\n`],
    ["a line of 77", `short\n${"x".repeat(77)}\nshort\n`],
    ["a line of 77 after CRLF", `short\r\n${"x".repeat(77)}`],
    ["DEL and tab", "a\x7fb\tc\n"],
    ["a control character", "a\x01b\n"],
    ["non-ASCII", "café\n"],
    ["over 128 KiB of short lines", "short line\n".repeat(12_000)],
  ];
  for (const [name, text] of bodies) {
    test(name, async () => {
      const c = base({ subject: "enc", text });
      const date = new Date(0);
      expect(cte(writeMime(c, "<id@example.com>", date)!)).toBe(cte(await composeWithMailComposer(c, "<id@example.com>", date)));
    });
  }
});
