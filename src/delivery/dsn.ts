/**
 * Delivery status notifications (RFC 3464) for bounced recipients: multipart/report with
 * a human part, the machine-readable message/delivery-status, and the original headers
 * (or the whole message when the sender asked RET=FULL). Sent with the null reverse-path
 * to the envelope sender; never for a message that itself had a null sender.
 *
 * Built by hand: the format is small and fixed, and general MIME builders do not produce
 * message/delivery-status parts.
 */
import type { NewMessage } from "../queue/enqueue.ts";
import type { DueBounce } from "../queue/outcomes.ts";
import { replyLine } from "../queue/outcomes.ts";
import type { StoredMessage } from "../queue/stored.ts";
import { newId } from "../smtp/ids.ts";
import { rfc5322Date } from "../smtp/trace.ts";
import { returnedContent } from "./returned.ts";

export type Bounced = DueBounce;

/** RFC 3461 §4.1: NOTIFY=NEVER, or a list without FAILURE, means no failure DSN. */
export const wantsFailureDsn = (notify: string | null) => !notify || notify.split(",").includes("FAILURE");

/** RFC 3464 §2.3.4: the enhanced code the upstream gave, else the generic one for its class. */
const statusOf = (b: Bounced) => b.reply.enhanced ?? (b.reply.code >= 500 ? "5.0.0" : "4.0.0");

const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ").slice(0, 900);

function concat(parts: (string | Uint8Array)[]): Uint8Array {
  const enc = new TextEncoder();
  const chunks = parts.map((p) => (typeof p === "string" ? enc.encode(p) : p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** One DSN for every bounced recipient of a message that is due a report; null when none is owed. */
export function buildDsn(o: StoredMessage, bounced: Bounced[], reportingHost: string, now: Date): NewMessage | null {
  if (o.mailFrom === "" || bounced.length === 0) return null;
  const boundary = `=_smarthost_${newId(10)}`;
  const id = newId();
  const human = [
    `This is the mail system at host ${reportingHost}.`,
    "",
    "Your message could not be delivered to one or more recipients.",
    "",
    ...bounced.map((b) => `<${b.address}>: ${oneLine(replyLine(b.reply))}`),
  ].join("\r\n");
  const perMessage = [
    `Reporting-MTA: dns; ${reportingHost}`,
    ...(o.envid ? [`Original-Envelope-Id: ${o.envid}`] : []),
    `X-Smarthost-Queue-ID: ${o.id}`,
    `Arrival-Date: ${rfc5322Date(new Date(o.createdAt))}`,
  ].join("\r\n");
  const perRecipient = bounced.map((b) =>
    [
      ...(b.orcpt ? [`Original-Recipient: ${b.orcpt}`] : []),
      `Final-Recipient: rfc822; ${b.address}`,
      "Action: failed",
      `Status: ${statusOf(b)}`,
      ...(b.remoteMta ? [`Remote-MTA: dns; ${b.remoteMta}`] : []),
      `Diagnostic-Code: smtp; ${oneLine(replyLine(b.reply))}`,
      `Last-Attempt-Date: ${rfc5322Date(new Date(b.at))}`,
    ].join("\r\n"),
  );
  const returned = returnedContent(o.raw, o.ret);
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${reportingHost}>`,
    `To: <${o.mailFrom}>`,
    "Subject: Undelivered Mail Returned to Sender",
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: <${id}@${reportingHost}>`,
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    "",
    "This is a MIME-encapsulated delivery status notification.",
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    human,
    "",
    `--${boundary}`,
    "Content-Type: message/delivery-status",
    "",
    [perMessage, ...perRecipient].join("\r\n\r\n"),
    "",
    "",
  ].join("\r\n");
  // The original goes back byte for byte: never decoded and re-encoded as text.
  const original = returned
    ? [
        `--${boundary}\r\n`,
        `Content-Type: ${returned.kind === "full" ? "message/rfc822" : "text/rfc822-headers"}\r\n`,
        `Content-Transfer-Encoding: ${returned.transferEncoding}\r\n`,
        ...(returned.kind === "headers" && returned.truncated ? ["Content-Description: header block, cut at 64 KiB\r\n"] : []),
        "\r\n",
        returned.bytes,
        // The delimiter's CRLF belongs to the boundary (RFC 2046 §5.1.1).
        "\r\n",
      ]
    : [];
  const domain = o.mailFrom.slice(o.mailFrom.lastIndexOf("@") + 1);
  return {
    id,
    accountId: o.accountId,
    source: "dsn",
    mailFrom: "",
    raw: concat([head, ...original, `--${boundary}--\r\n`]),
    recipients: [{ address: o.mailFrom, domain, notify: "NEVER" }],
    smtputf8: /[^\x00-\x7f]/.test(o.mailFrom),
  };
}
