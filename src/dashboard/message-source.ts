/**
 * One message's stored bytes for the dashboard's message view: the raw source (downloaded
 * as it is), its header fields in order, and its text and HTML bodies for the preview,
 * read with postal-mime (the same parser on Bun and Workers). Read-only, every account.
 */
import PostalMime from "postal-mime";
import type { Sql } from "../db/raw.ts";

/** The stored message exactly as accepted (after our Received/Message-ID/DKIM additions); null when unknown. */
export async function messageSource(sql: Sql, id: string): Promise<Uint8Array<ArrayBuffer> | null> {
  const rs = await sql.execute({ sql: "SELECT raw FROM messages WHERE id = ?", args: [id] });
  const raw = rs.rows[0]?.raw;
  if (raw === undefined || raw === null) return null;
  return raw instanceof ArrayBuffer ? new Uint8Array(raw) : raw instanceof Uint8Array ? new Uint8Array(raw) : new TextEncoder().encode(String(raw));
}

export interface MessageContent {
  /** Every header field in order, duplicates included, the value unfolded (RFC 5322 §2.2.3). */
  headers: { name: string; value: string }[];
  text: string | null;
  html: string | null;
  attachments: { filename: string | null; type: string; size: number }[];
}

export async function messageContent(raw: Uint8Array): Promise<MessageContent> {
  const email = await PostalMime.parse(raw, { attachmentEncoding: "arraybuffer" });
  return {
    headers: email.headers.map((h) => ({ name: h.originalKey, value: h.value })),
    text: email.text ?? null,
    html: email.html ?? null,
    attachments: email.attachments.map((a) => ({ filename: a.filename, type: a.mimeType, size: typeof a.content === "string" ? a.content.length : a.content.byteLength })),
  };
}
