/**
 * The arguments of MAIL FROM and RCPT TO (RFC 5321 §4.1.1.2–3): the path, then the
 * parameters, checked together (a non-ASCII address needs SMTPUTF8, RFC 6531 §3.4).
 */
import { parsePath, type Mailbox } from "./address.ts";
import { parseMailParams, parseRcptParams, type MailParams, type RcptParams } from "./params.ts";
import { replies, type Reply } from "../core/reply.ts";

export function parseMailArgument(arg: string, maxMessageBytes: number): { from: Mailbox | null; params: MailParams } | Reply {
  if (!/^FROM:/i.test(arg)) return replies.syntax("Syntax: MAIL FROM:<address> [parameters]");
  const path = parsePath(arg.slice(5), { allowNull: true, utf8: true });
  if (!path.ok) return replies.syntax(path.message);
  const parsed = parseMailParams(path.rest);
  if (!parsed.ok) return parsed.reply;
  if (path.mailbox?.utf8 && !parsed.params.smtputf8) return replies.utf8NotAllowed;
  // RFC 1870 §6.2: a declared size over the limit is refused at once.
  if (parsed.params.size !== undefined && parsed.params.size > maxMessageBytes) return replies.tooBig(maxMessageBytes);
  return { from: path.mailbox, params: parsed.params };
}

export function parseRcptArgument(arg: string, smtputf8: boolean): { to: Mailbox; params: RcptParams } | Reply {
  if (!/^TO:/i.test(arg)) return replies.syntax("Syntax: RCPT TO:<address> [parameters]");
  const path = parsePath(arg.slice(3), { allowNull: false, utf8: smtputf8 });
  if (!path.ok) return path.reason === "utf8" ? replies.utf8NotAllowed : replies.syntax(path.message);
  const parsed = parseRcptParams(path.rest);
  if (!parsed.ok) return parsed.reply;
  return { to: path.mailbox!, params: parsed.params };
}

/** The EHLO keywords (RFC 5321 §4.1.1.1) for the session's state. */
export function ehloKeywords(o: { maxMessageBytes: number; offerStartTls: boolean; offerAuth: boolean }): string[] {
  const ext = ["PIPELINING", `SIZE ${o.maxMessageBytes}`, "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "DSN"];
  if (o.offerStartTls) ext.push("STARTTLS");
  if (o.offerAuth) ext.push("AUTH PLAIN LOGIN");
  return ext;
}
