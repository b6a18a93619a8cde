/**
 * What the gateway reads from and takes out of a submitted message's header block before it
 * is stored: the sender fields checked against the account's rules, and the fields that
 * must not leave the relay as the client wrote them.
 */
import { headerValues } from "../mime/headers.ts";
import { parseAddressList } from "../mime/addresses.ts";

/**
 * Removed before storing: our own idempotency header (read first, internal), and any
 * Authentication-Results a client wrote — RFC 8601 §5: a border MTA removes those it did
 * not add itself, or a forged "dmarc=pass" would travel on as if we had checked it.
 */
export const STRIPPED_HEADERS: ReadonlySet<string> = new Set(["smarthost-idempotency-key", "authentication-results"]);

/** Header fields besides From: that name who sends (RFC 5322 §3.6.2, §3.6.6). */
export const SENDER_FIELDS = ["sender", "resent-from", "resent-sender"] as const;

/** Every address of the sender fields; `null` names a field that does not parse. */
export function senderFieldAddresses(raw: Uint8Array): { field: string; addresses: string[] | null }[] {
  const out: { field: string; addresses: string[] | null }[] = [];
  for (const field of SENDER_FIELDS) {
    for (const value of headerValues(raw, field)) out.push({ field, addresses: parseAddressList(value)?.map((a) => a.address) ?? null });
  }
  return out;
}

const CR = 13;
const LF = 10;
const COLON = 58;

/** End of the header block: the offset of the empty line, or the message length when there is none. */
function headerEnd(raw: Uint8Array): number {
  for (let i = 0; i + 3 < raw.length; i++) {
    if (raw[i] === CR && raw[i + 1] === LF && raw[i + 2] === CR && raw[i + 3] === LF) return i + 2;
  }
  return raw.length;
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
