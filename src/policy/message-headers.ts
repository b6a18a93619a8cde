/**
 * What the gateway reads from and takes out of a submitted message's header block before it
 * is stored: the sender fields checked against the account's rules, and the fields that
 * must not leave the relay as the client wrote them.
 */
import { blankLineAt, headerBlock } from "../mime/headers.ts";
import { parseAddressList } from "../mime/addresses.ts";
import { senderAllowed } from "./sender-rules.ts";

/**
 * Removed before storing: our own idempotency header (read first, internal), and any
 * Authentication-Results a client wrote — RFC 8601 §5: a border MTA removes those it did
 * not add itself, or a forged "dmarc=pass" would travel on as if we had checked it.
 */
export const STRIPPED_HEADERS: ReadonlySet<string> = new Set(["smarthost-idempotency-key", "authentication-results"]);

/** From: and the fields besides it that name who sends (RFC 5322 §3.6.2, §3.6.6). */
const FIELD_NAMES: Record<string, string> = { from: "From", sender: "Sender", "resent-from": "Resent-From", "resent-sender": "Resent-Sender" };

/** The values of From: and the sender fields, unfolded (RFC 5322 §2.2.3), one pass over the header block. */
function senderValues(raw: Uint8Array): { field: string; value: string }[] {
  const out: { field: string; value: string }[] = [];
  for (const line of headerBlock(raw).replace(/\r\n(?=[ \t])/g, "").split("\r\n")) {
    const colon = line.indexOf(":");
    const field = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : "";
    if (field in FIELD_NAMES) out.push({ field, value: line.slice(colon + 1).trim() });
  }
  return out;
}

/** Every address of the sender fields, in order; `null` names a field that does not parse. */
export function senderFieldAddresses(raw: Uint8Array): { field: string; addresses: string[] | null }[] {
  return fieldAddresses(senderValues(raw));
}

function fieldAddresses(values: { field: string; value: string }[]): { field: string; addresses: string[] | null }[] {
  return values.filter((v) => v.field !== "from").map((v) => ({ field: v.field, addresses: parseAddressList(v.value)?.map((a) => a.address) ?? null }));
}

/** The addresses of the message's one From: header; null when there is not exactly one that parses. */
export function headerFromAddresses(raw: Uint8Array): string[] | null {
  const from = senderValues(raw).filter((v) => v.field === "from");
  if (from.length !== 1) return null;
  return parseAddressList(from[0]!.value)?.map((a) => a.address) ?? null;
}

export interface SenderRefusal {
  kind: "sender-denied" | "invalid";
  message: string;
  code?: string;
}

/**
 * The first sender the message names that the account may not use — the envelope sender,
 * the one From: header (`headerFrom` when the caller built it), Sender:, Resent-From:,
 * Resent-Sender: — or a sender field that is missing or does not parse; null when all pass.
 * The null reverse-path (`mailFrom` null) names nobody and passes (RFC 5321 §4.5.5).
 */
export function refusedSender(patterns: readonly string[], raw: Uint8Array, mailFrom: string | null, headerFrom?: string[]): SenderRefusal | null {
  const checked = checkSenderFields(patterns, raw, mailFrom, headerFrom);
  return "refusal" in checked ? checked.refusal : null;
}

/** refusedSender's answer, or the From: addresses it read (the signer wants them): one pass over the header block for both. */
export function checkSenderFields(patterns: readonly string[], raw: Uint8Array, mailFrom: string | null, headerFrom?: string[]): { refusal: SenderRefusal } | { from: string[] } {
  if (mailFrom !== null && !senderAllowed(patterns, mailFrom)) return { refusal: { kind: "sender-denied", message: `Sender address <${mailFrom}> not allowed for this account` } };
  const values = senderValues(raw);
  let from = headerFrom;
  if (!from) {
    const fromValues = values.filter((v) => v.field === "from");
    if (fromValues.length !== 1) return { refusal: { kind: "invalid", message: "Message must have exactly one From: header", code: "invalid_from" } };
    from = parseAddressList(fromValues[0]!.value)?.map((a) => a.address);
    if (!from) return { refusal: { kind: "invalid", message: "From: header does not parse", code: "invalid_from" } };
  }
  const fields = [{ field: "from", addresses: from as string[] | null }, ...fieldAddresses(values)];
  for (const f of fields) {
    const name = FIELD_NAMES[f.field]!;
    if (!f.addresses) return { refusal: { kind: "invalid", message: `${name}: header does not parse`, code: "invalid_sender_header" } };
    const denied = f.addresses.find((a) => !senderAllowed(patterns, a));
    if (denied) return { refusal: { kind: "sender-denied", message: `${name}: address <${denied}> not allowed for this account` } };
  }
  return { from };
}

const CR = 13;
const LF = 10;
const COLON = 58;

/** End of the header block: the offset of the empty line, or the message length when there is none. */
function headerEnd(raw: Uint8Array): number {
  const at = blankLineAt(raw);
  return at < 0 ? raw.length : at + 2;
}

function fieldName(raw: Uint8Array, start: number, end: number): string | null {
  let name = "";
  for (let i = start; i < end; i++) {
    if (raw[i] === COLON) return name.trim().toLowerCase();
    if (raw[i] === CR || raw[i] === LF) return null;
    name += String.fromCharCode(raw[i]!);
  }
  return null;
}

/**
 * The message without the named header fields (with their folded continuation lines).
 * Only the header block is read; every other byte is kept as it was, and the same array
 * is returned when nothing is removed.
 */
export function removeHeaderFields(raw: Uint8Array, names: ReadonlySet<string>): Uint8Array {
  const end = headerEnd(raw);
  const kept: [number, number][] = [];
  let dropping = false;
  let removed = false;
  for (let pos = 0; pos < end; ) {
    let next = raw.indexOf(LF, pos);
    next = next < 0 || next >= end ? end : next + 1;
    const continuation = raw[pos] === 32 || raw[pos] === 9;
    if (!continuation) {
      const name = fieldName(raw, pos, next);
      dropping = name !== null && names.has(name);
    }
    if (dropping) removed = true;
    else if (kept.length > 0 && kept[kept.length - 1]![1] === pos) kept[kept.length - 1]![1] = next;
    else kept.push([pos, next]);
    pos = next;
  }
  if (!removed) return raw;
  const size = kept.reduce((n, [a, b]) => n + b - a, 0) + raw.length - end;
  const out = new Uint8Array(size);
  let at = 0;
  for (const [a, b] of kept) {
    out.set(raw.subarray(a, b), at);
    at += b - a;
  }
  out.set(raw.subarray(end), at);
  return out;
}
