/**
 * A direct MIME writer for the JSON API's common shapes: text, html or both
 * (multipart/alternative), with or without attachments (multipart/mixed). It builds the
 * message as one string with nodemailer's own header and body encoders (mime-funcs, qp,
 * base64), the same ones MailComposer uses, without MailComposer's tree of Node streams,
 * which cost about a third of a JSON submission.
 *
 * Shapes it does not handle (a non-ASCII address, an unusual attachment name or type, an
 * empty body) return null, and compose.ts hands them to MailComposer.
 */
import { Buffer } from "node:buffer";
import * as base64 from "nodemailer/lib/base64";
import * as mimeFuncs from "nodemailer/lib/mime-funcs";
import * as qp from "nodemailer/lib/qp";
import type { NamedAddress } from "./addresses.ts";
import type { Composition } from "./composition.ts";

// RFC 2045 §5.1: type "/" subtype, both tokens.
const MIME_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Filenames written as a plain quoted-string; anything else needs RFC 2231, left to MailComposer.
const PLAIN_FILENAME = /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,200}$/;
const CRLF = "\r\n";

/** 'Q' when Latin letters outnumber the rest, else 'B' (MailComposer's choice, mime-node). */
function wordEncoding(value: string): "Q" | "B" {
  let other = 0;
  let latin = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x08 || c === 0x0b || c === 0x0c || (c >= 0x0e && c <= 0x1f) || c >= 0x80) other++;
    else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) latin++;
  }
  return other < latin ? "Q" : "B";
}

/** A field folded at 76 (RFC 5322 §2.2.3), ending in CRLF. */
const field = (name: string, value: string) => `${mimeFuncs.foldLines(`${name}: ${value}`, 76).replace(/\r?\n/g, CRLF)}${CRLF}`;

// An unstructured value (RFC 5322 §3.2.5): encoded words (RFC 2047) when it is not plain
// printable ASCII; control characters are forced into an encoded word.
function headerText(value: string): string {
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(value)) return mimeFuncs.encodeWord(value, wordEncoding(value), 52);
  return mimeFuncs.encodeWords(value, wordEncoding(value), 52, true);
}

function displayName(name: string): string {
  if (/^[\w ]*$/.test(name)) return name;
  if (/^[\x20-\x7e]*$/.test(name)) return mimeFuncs.quoteString(name);
  return mimeFuncs.encodeWord(name, wordEncoding(name), 52);
}

const mailbox = (a: NamedAddress) => (a.name ? `${displayName(a.name)} <${a.address}>` : a.address);
const addressList = (list: NamedAddress[]) => list.map(mailbox).join(", ");

// mime-funcs' isPlainText and hasLongerLines(…, 76), compiled once: hasLongerLines builds
// its RegExp anew on every call, a third of the time of a text part.
const NOT_PLAIN = /[\x00-\x08\x0b\x0c\x0e-\x1f\u0080-\uFFFF]/;
const LONG_LINE = /^.{77,}/m;
const LONGEST_CHECKED = 128 * 1024; // hasLongerLines takes anything longer as long-lined

/** Text as CRLF lines: 7bit when plain ASCII in short lines, else quoted-printable (RFC 2045 §6.7). */
function textPart(type: "plain" | "html", text: string): string {
  const body = text.replace(/\r\n|\r|\n/g, CRLF);
  if (!NOT_PLAIN.test(body) && body.length <= LONGEST_CHECKED && !LONG_LINE.test(body)) {
    return `Content-Type: text/${type}; charset=utf-8${CRLF}Content-Transfer-Encoding: 7bit${CRLF}${CRLF}${body}`;
  }
  return `Content-Type: text/${type}; charset=utf-8${CRLF}Content-Transfer-Encoding: quoted-printable${CRLF}${CRLF}${qp.wrap(qp.encode(Buffer.from(body, "utf8")), 76)}`;
}

const boundary = () => `--_sh_${crypto.randomUUID().replace(/-/g, "")}`;

function multipart(subtype: "alternative" | "mixed", parts: string[]): string {
  const b = boundary();
  return `Content-Type: multipart/${subtype};${CRLF} boundary="${b}"${CRLF}${CRLF}${parts.map((p) => `--${b}${CRLF}${p}${CRLF}`).join("")}--${b}--${CRLF}`;
}

/** The whole message, or null when its shape is one MailComposer should write. */
export function writeMime(c: Composition, messageId: string, date: Date): Uint8Array | null {
  if (c.text === "" || c.html === "" || (c.text === undefined && c.html === undefined)) return null;
  if ([c.from, ...c.to, ...c.cc, ...c.replyTo].some((a) => a.utf8 || /[^\x21-\x7e]/.test(a.address))) return null;
  for (const a of c.attachments) {
    if (!PLAIN_FILENAME.test(a.filename)) return null;
    if (a.contentType !== undefined && !MIME_TYPE.test(a.contentType)) return null;
  }

  let head = field("From", mailbox(c.from));
  if (c.to.length > 0) head += field("To", addressList(c.to));
  if (c.cc.length > 0) head += field("Cc", addressList(c.cc));
  if (c.replyTo.length > 0) head += field("Reply-To", addressList(c.replyTo));
  if (c.subject !== undefined) head += field("Subject", headerText(c.subject));
  head += field("Message-ID", messageId);
  head += field("Date", date.toUTCString().replace(/GMT/, "+0000"));
  for (const [name, value] of Object.entries(c.headers)) head += field(name, headerText(value));
  head += `MIME-Version: 1.0${CRLF}`;

  const texts: string[] = [];
  if (c.text !== undefined) texts.push(textPart("plain", c.text));
  if (c.html !== undefined) texts.push(textPart("html", c.html));
  const bodyPart = texts.length === 1 ? texts[0]! : multipart("alternative", texts);
  const entity =
    c.attachments.length === 0
      ? bodyPart
      : multipart("mixed", [
          bodyPart,
          ...c.attachments.map((a) => {
            const type = a.contentType ?? mimeFuncs.detectMimeType(a.filename);
            // Parameters as MailComposer writes them: a token bare, else a quoted-string (RFC 2045 §5.1).
            const ct = mimeFuncs.buildHeaderValue({ value: type, params: { name: a.filename } });
            const cd = mimeFuncs.buildHeaderValue({ value: "attachment", params: { filename: a.filename } });
            const data = base64.wrap(base64.encode(Buffer.from(a.content.buffer, a.content.byteOffset, a.content.byteLength)), 76);
            return `${field("Content-Type", ct)}Content-Transfer-Encoding: base64${CRLF}${field("Content-Disposition", cd)}${CRLF}${data}`;
          }),
        ]);
  const out = Buffer.from(head + entity, "utf8");
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
