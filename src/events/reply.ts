/**
 * Reading an upstream reply line ("550 5.1.1 no such user") as a value, and what a
 * permanent failure says about whose fault it is (RFC 3463 subject codes).
 */
import type { BounceClass, UpstreamReply } from "./types.ts";

const LINE = /^(\d{3})(?:[ -]([245]\.\d{1,3}\.\d{1,3}))?\s*(.*)$/s;

/** A typed reply from its one-line form; a line without a code reads as a local 451. */
export function parseReplyLine(line: string): UpstreamReply {
  const m = LINE.exec(line.trim());
  if (!m) return { code: 451, enhanced: null, text: line.trim() };
  return { code: Number(m[1]), enhanced: m[2] ?? null, text: m[3]!.replace(/\s+/g, " ").trim() };
}

/** RFC 3463 §3.2–3.8: the subject digit says what failed. */
export function bounceClass(r: UpstreamReply): BounceClass {
  const e = r.enhanced ?? "";
  if (/^5\.1\.(2|10)$/.test(e) || e === "5.4.4") return "domain";
  // X.1.7 / X.1.8 are about the sender's address (RFC 3463 §3.2).
  if (/^5\.1\.[78]$/.test(e)) return "other";
  if (/^5\.1\.\d+$/.test(e)) return "recipient";
  if (e === "5.2.2" || e === "5.2.3") return "mailbox-full";
  if (/^5\.7\.\d+$/.test(e)) return "policy";
  return "other";
}
