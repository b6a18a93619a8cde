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
import type { StoredMessage } from "../queue/stored.ts";
import { headerBlock } from "../mime/headers.ts";
import { newId } from "../smtp/ids.ts";
import { rfc5322Date } from "../smtp/trace.ts";

export interface Bounced {
  address: string;
  orcpt: string | null;
  notify: string | null;
  reply: string;
  /** The host that answered, when one did. */
  remoteMta: string | null;
}


/** RFC 3461 §4.1: NOTIFY=NEVER, or a list without FAILURE, means no failure DSN. */
export const wantsFailureDsn = (notify: string | null) => !notify || notify.split(",").includes("FAILURE");

/** RFC 3463 status from the reply ("550 5.1.1 …"), or a generic permanent one. */
function statusOf(reply: string): string {
  return /^\d{3} ([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply)?.[1] ?? "5.0.0";
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ").slice(0, 900);

export function buildDsn(o: StoredMessage, bounced: Bounced[], reportingHost: string, now: Date): NewMessage | null {
  const notify = bounced.filter((b) => wantsFailureDsn(b.notify));
  if (o.mailFrom === "" || notify.length === 0) return null;
  const boundary = `=_smarthost_${newId(10)}`;
  const id = newId();
  const human = [
    `This is the mail system at host ${reportingHost}.`,
    "",
    "Your message could not be delivered to one or more recipients.",
    "",
    ...notify.map((b) => `<${b.address}>: ${oneLine(b.reply)}`),
  ].join("\r\n");
  const perMessage = [
    `Reporting-MTA: dns; ${reportingHost}`,
    ...(o.envid ? [`Original-Envelope-Id: ${o.envid}`] : []),
    `X-Smarthost-Queue-ID: ${o.id}`,
    `Arrival-Date: ${rfc5322Date(new Date(o.createdAt))}`,
  ].join("\r\n");
  const perRecipient = notify.map((b) =>
    [
      ...(b.orcpt ? [`Original-Recipient: ${b.orcpt}`] : []),
      `Final-Recipient: rfc822; ${b.address}`,
      "Action: failed",
      `Status: ${statusOf(b.reply)}`,
      ...(b.remoteMta ? [`Remote-MTA: dns; ${b.remoteMta}`] : []),
      `Diagnostic-Code: smtp; ${oneLine(b.reply)}`,
      `Last-Attempt-Date: ${rfc5322Date(now)}`,
    ].join("\r\n"),
  );
  const full = o.ret === "FULL";
  const original = full ? new TextDecoder("utf-8").decode(o.raw) : headerBlock(o.raw);
  const raw = [
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
    `--${boundary}`,
    `Content-Type: ${full ? "message/rfc822" : "text/rfc822-headers"}`,
    "",
    original.replace(/\r\n$/, ""),
    "",
    `--${boundary}--`,
    "",
  ].join("\r\n");
  const domain = o.mailFrom.slice(o.mailFrom.lastIndexOf("@") + 1);
  return {
    id,
    accountId: o.accountId,
    source: "dsn",
    mailFrom: "",
    raw: new TextEncoder().encode(raw),
    recipients: [{ address: o.mailFrom, domain, notify: "NEVER" }],
    smtputf8: /[^\x00-\x7f]/.test(o.mailFrom),
  };
}
