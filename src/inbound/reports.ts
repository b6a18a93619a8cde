/**
 * What a message to the inbound listener reports, read with postal-mime (the same on Bun,
 * Deno and Workers): a DSN (RFC 3464 multipart/report with message/delivery-status; RFC
 * 6533's message/global-delivery-status too), an ARF feedback report (RFC 5965
 * message/feedback-report), or neither. The offending message, returned as message/rfc822
 * or text/rfc822-headers (RFC 6522 §3), gives the headers that may name our message.
 * No decision is taken here: inbound/act.ts decides.
 */
import PostalMime from "postal-mime";

export interface DsnRecipient {
  /** Final-Recipient's address (RFC 3464 §2.3.2), lower-cased; null when it has none. */
  recipient: string | null;
  originalRecipient: string | null;
  /** failed | delayed | delivered | relayed | expanded (RFC 3464 §2.3.3). */
  action: string;
  /** The enhanced status code (RFC 3464 §2.3.4, RFC 3463), e.g. 5.1.1. */
  status: string | null;
  /** Diagnostic-Code's text after its type, e.g. "550 5.1.1 no such user". */
  diagnostic: string | null;
  remoteMta: string | null;
}

/** What the returned message's headers say about where it came from. */
export interface OriginalHeaders {
  messageId: string | null;
  /** Return-Path, or ARF's Original-Mail-From. */
  returnPath: string | null;
  /** Queue ids of Received: fields `by HOST (smarthost) … id ID`. */
  queueIds: string[];
  to: string[];
}

export type InboundReport =
  | { kind: "dsn"; recipients: DsnRecipient[]; original: OriginalHeaders }
  | { kind: "arf"; feedbackType: string; userAgent: string | null; originalRcptTo: string[]; original: OriginalHeaders }
  | { kind: "other"; why: string };

type Fields = Map<string, string[]>;

/** Header-style field blocks (RFC 3464 §2.1, RFC 5965 §3.1): unfolded, names lower-cased, separated by blank lines. */
export function fieldBlocks(text: string): Fields[] {
  const blocks: Fields[] = [];
  let current: Fields = new Map();
  let last: [string, number] | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") {
      if (current.size > 0) blocks.push(current);
      current = new Map();
      last = null;
      continue;
    }
    if (/^[ \t]/.test(line) && last) {
      const values = current.get(last[0])!;
      values[last[1]] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = current.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    current.set(name, values);
    last = [name, values.length - 1];
  }
  if (current.size > 0) blocks.push(current);
  return blocks;
}

const first = (f: Fields, name: string): string | null => f.get(name)?.[0] ?? null;

/** "rfc822; user@example.com" → "user@example.com" (RFC 3464 §2.3.2: address-type ; address). */
function typedAddress(v: string | null): string | null {
  if (!v) return null;
  const semi = v.indexOf(";");
  const addr = (semi >= 0 ? v.slice(semi + 1) : v).trim().replace(/^<|>$/g, "");
  return addr.includes("@") ? addr.toLowerCase() : null;
}

/** "smtp; 550 5.1.1 …" → "550 5.1.1 …". */
const afterType = (v: string | null): string | null => (v === null ? null : v.slice(v.indexOf(";") + 1).trim());

const angle = (v: string | null): string | null => {
  if (!v) return null;
  const m = /<([^<>]*)>/.exec(v);
  return (m ? m[1]! : v).trim() || null;
};

/** The returned message's header block, read for what names our message. */
export function originalHeaders(text: string, arf?: Fields): OriginalHeaders {
  const end = text.search(/\r?\n\r?\n/);
  const head: Fields = fieldBlocks(end >= 0 ? text.slice(0, end) : text)[0] ?? new Map();
  const queueIds = (head.get("received") ?? []).flatMap((r) => {
    const m = /\bby\s+\S+\s+\(smarthost\)\s+with\s+\S+\s+id\s+([0-9A-Za-z]+)/.exec(r);
    return m ? [m[1]!.toUpperCase()] : [];
  });
  const to = (head.get("to") ?? []).flatMap((v) => v.match(/[^\s<>,;"]+@[^\s<>,;"]+/g) ?? []).map((a) => a.toLowerCase());
  const returnPath = angle(first(head, "return-path")) ?? (arf ? angle(first(arf, "original-mail-from")) : null);
  return { messageId: angle(first(head, "message-id")), returnPath: returnPath?.toLowerCase() ?? null, queueIds, to };
}

const decoder = new TextDecoder();
const textOf = (content: ArrayBuffer | Uint8Array | string): string => (typeof content === "string" ? content : decoder.decode(content));

const ORIGINAL_TYPES = new Set(["message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"]);
const DSN_TYPES = new Set(["message/delivery-status", "message/global-delivery-status"]);

export async function readReport(raw: Uint8Array): Promise<InboundReport> {
  let email;
  try {
    email = await PostalMime.parse(raw, { attachmentEncoding: "arraybuffer" });
  } catch {
    return { kind: "other", why: "not a MIME message" };
  }
  const parts = email.attachments;
  const original = parts.find((a) => ORIGINAL_TYPES.has(a.mimeType));
  const originalText = original ? textOf(original.content) : "";
  const dsn = parts.find((a) => DSN_TYPES.has(a.mimeType));
  if (dsn) {
    // The first block is about the message (RFC 3464 §2.2), each further one about a recipient (§2.3).
    const blocks = fieldBlocks(textOf(dsn.content)).slice(1);
    const recipients = blocks
      .filter((b) => b.has("action"))
      .map((b) => ({
        recipient: typedAddress(first(b, "final-recipient")),
        originalRecipient: typedAddress(first(b, "original-recipient")),
        action: (first(b, "action") ?? "").toLowerCase(),
        status: /^[245]\.\d{1,3}\.\d{1,3}/.exec(first(b, "status") ?? "")?.[0] ?? null,
        diagnostic: afterType(first(b, "diagnostic-code")),
        remoteMta: afterType(first(b, "remote-mta")),
      }));
    if (recipients.length === 0) return { kind: "other", why: "a delivery-status part without recipients" };
    return { kind: "dsn", recipients, original: originalHeaders(originalText) };
  }
  const feedback = parts.find((a) => a.mimeType === "message/feedback-report");
  if (feedback) {
    const f: Fields = fieldBlocks(textOf(feedback.content))[0] ?? new Map();
    const feedbackType = (first(f, "feedback-type") ?? "").toLowerCase();
    if (!feedbackType) return { kind: "other", why: "a feedback report without Feedback-Type" };
    const originalRcptTo = (f.get("original-rcpt-to") ?? []).map((v) => angle(v)?.toLowerCase()).filter((v): v is string => !!v);
    return { kind: "arf", feedbackType, userAgent: first(f, "user-agent"), originalRcptTo, original: originalHeaders(originalText, f) };
  }
  return { kind: "other", why: "neither a DSN nor a feedback report" };
}
