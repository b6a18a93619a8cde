/**
 * Limits on a message's header block, checked before a message is accepted:
 * - hop count (RFC 5321 §6.3): a message that has passed through too many relays is in a
 *   loop (a route pointing back at this relay, two relays pointing at each other). The RFC
 *   suggests refusing at 100 Received: fields; like Postfix's hopcount_limit we refuse at
 *   50, counting the one this relay prepends on SMTP.
 * - header size: every header scan (sender rules, DKIM signing) reads the whole block;
 *   like Postfix's header_size_limit, 100 KiB at most.
 * Pure: bytes in, a finding out.
 */
import { blankLineAt } from "./headers.ts";

export const MAX_HOPS = 50;
export const MAX_HEADER_BYTES = 102_400;

export type TraceProblem = { kind: "too-many-hops"; hops: number } | { kind: "header-too-large"; limit: number };

const CR = 13;
const LF = 10;

/**
 * Octets in the header block (up to the empty line; the whole message when there is
 * none), looking no further than `limit` + 4 octets (a native search).
 */
function headerLength(raw: Uint8Array, limit: number): number {
  if (raw[0] === CR && raw[1] === LF) return 0;
  const at = blankLineAt(raw, limit + 4);
  return at < 0 ? raw.length : at + 2;
}

/** Received: fields at the start of a line of the header block (case-insensitive, RFC 5322 §3.6.7). */
function countReceived(raw: Uint8Array, length: number): number {
  const text = new TextDecoder("latin1").decode(raw.subarray(0, length));
  return text.match(/^received[ \t]*:/gim)?.length ?? 0;
}

export function traceProblem(raw: Uint8Array): TraceProblem | null {
  const length = headerLength(raw, MAX_HEADER_BYTES);
  if (length > MAX_HEADER_BYTES) return { kind: "header-too-large", limit: MAX_HEADER_BYTES };
  const hops = countReceived(raw, length);
  return hops >= MAX_HOPS ? { kind: "too-many-hops", hops } : null;
}
