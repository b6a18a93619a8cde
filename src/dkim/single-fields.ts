/**
 * Header fields a message may carry once (RFC 5322 §3.6: From, Subject and Date at most
 * once). A second From: is how a spoofed author rides along with a valid DKIM signature
 * (RFC 6376 §8.15), so such a message is refused at submission, before it is signed.
 */
import { splitMessage } from "./sign.ts";
import { Failure } from "../core/failure.ts";

const SINGLE = ["from", "subject", "date"] as const;

/** The first of those fields that occurs more than once, or null. */
export function repeatedSingleField(raw: Uint8Array): string | null {
  const counts = new Map<string, number>();
  for (const f of splitMessage(raw).fields) counts.set(f.name, (counts.get(f.name) ?? 0) + 1);
  return SINGLE.find((n) => (counts.get(n) ?? 0) > 1) ?? null;
}

/** Throws the 550 5.6.0 / HTTP 400 refusal for a repeated From:, Subject: or Date:. */
export function assertSingleFields(raw: Uint8Array): void {
  const name = repeatedSingleField(raw);
  if (name === null) return;
  const shown = name[0]!.toUpperCase() + name.slice(1);
  throw new Failure("invalid", `Message has more than one ${shown}: header field (RFC 5322 section 3.6 allows one)`, { code: "duplicate_header" });
}
