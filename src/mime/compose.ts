/**
 * Builds an RFC 5322/MIME message from the JSON API's fields: the common shapes with the
 * direct writer (direct.ts), the rest with nodemailer's MailComposer (encodings, folding,
 * multipart/alternative and attachments). Bcc never appears in the headers; it is
 * envelope only.
 */
import { Buffer } from "node:buffer";
import type { NamedAddress } from "./addresses.ts";
import type { Composition } from "./composition.ts";
import { writeMime } from "./direct.ts";

const asMail = (a: NamedAddress) => ({ name: a.name ?? "", address: a.address });

export async function composeMessage(c: Composition): Promise<Uint8Array> {
  const messageId = `<${crypto.randomUUID()}@${c.messageIdDomain}>`;
  const date = new Date();
  return writeMime(c, messageId, date) ?? composeWithMailComposer(c, messageId, date);
}

/** MailComposer's message for the same fields (every shape; the reference for direct.ts). */
export async function composeWithMailComposer(c: Composition, messageId: string, date: Date): Promise<Uint8Array> {
  // Loaded on first use: a node that never takes JSON submissions never holds it in memory.
  const { default: MailComposer } = await import("nodemailer/lib/mail-composer/index.js");
  const composer = new MailComposer({
    from: asMail(c.from),
    to: c.to.map(asMail),
    cc: c.cc.length > 0 ? c.cc.map(asMail) : undefined,
    replyTo: c.replyTo.length > 0 ? c.replyTo.map(asMail) : undefined,
    subject: c.subject,
    text: c.text,
    html: c.html,
    headers: c.headers,
    messageId,
    date,
    attachments: c.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: Buffer.from(a.content.buffer, a.content.byteOffset, a.content.byteLength),
    })),
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const built = await composer.compile().build();
  return new Uint8Array(built.buffer, built.byteOffset, built.byteLength);
}
