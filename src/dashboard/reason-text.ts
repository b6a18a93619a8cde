/**
 * What makes two deferrals "the same reason" on the overview: the reply with its instants,
 * addresses, ids and counts taken out. Upstreams put a queue id, a retry time or the
 * client's address into the text ("try again after 22:14:03", "[TSS04] … 1.2.3.4 …",
 * Gmail's "… d2e1a72fcca58si123 - gsmtp"), which would otherwise give one row per message.
 * And a wait of our own (a route down, at its quota, a destination's pace: delivery/worker.ts
 * records it as a deferred event with no reply and `kind: route until ISO`) is no
 * deferral at all: no attempt was made.
 */

/** Our own waits, by the prefix delivery/worker.ts writes into the event's detail. */
export const WAIT_KINDS = ["route_down", "route_quota", "destination_pace"] as const;
export type WaitKind = (typeof WAIT_KINDS)[number];

/** SQL: true for a `deferred` event that is one of our own waits (no upstream reply, a wait's detail). */
export const IS_WAIT = `(type = 'deferred' AND reply IS NULL AND (${WAIT_KINDS.map((k) => `substr(coalesce(detail, ''), 1, ${k.length + 1}) = '${k}:'`).join(" OR ")}))`;

/** A wait's kind and the route (or destination) it waited for; null when the detail is not a wait's. */
export function waitOf(detail: string): { kind: WaitKind; on: string } | null {
  const m = /^([a-z_]+): (.*?)(?: until \S+)?$/.exec(detail);
  const kind = WAIT_KINDS.find((k) => k === m?.[1]);
  return kind && m ? { kind, on: m[2]! } : null;
}

const RULES: [RegExp, string][] = [
  // ISO 8601 instants and times of day first: their digits would otherwise become counts.
  [/\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?/gi, "<time>"],
  [/\b\d{1,2}:\d\d(?::\d\d)?\b/g, "<time>"],
  // IPv4 and IPv6 addresses (a bracketed [IPv6:…] literal included).
  [/\b\d{1,3}(?:\.\d{1,3}){3}\b/g, "<ip>"],
  [/\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}\b/gi, "<ip>"],
  // Ids: a token of 6 or more letters and digits (or - _ .) holding at least one digit and one letter.
  [/\b(?=[\w.-]*\d)(?=[\w.-]*[a-z])[\w.-]{6,}\b/gi, "<id>"],
  // Counts and long numbers ("in 299 seconds", "queue 48213").
  [/\b\d+\b/g, "<n>"],
];

/** The reply text with times, addresses, ids and numbers replaced by placeholders, spaces collapsed. */
export function reasonKey(text: string): string {
  let out = text;
  for (const [re, to] of RULES) out = out.replace(re, to);
  return out.replace(/\s+/g, " ").trim();
}
