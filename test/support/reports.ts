/** Bounces and complaints as receivers send them: RFC 3464 DSNs and RFC 5965 ARF reports, built for tests. */

export interface DsnRecipientSpec {
  finalRecipient: string;
  originalRecipient?: string;
  action: "failed" | "delayed" | "delivered" | "relayed" | "expanded";
  status: string;
  diagnostic?: string;
  remoteMta?: string;
}

const CRLF = "\r\n";

/** Folds a long value at its first space past 20 characters. */
const fold = (v: string): string => {
  const at = v.indexOf(" ", 20);
  return at < 0 ? v : `${v.slice(0, at)}${CRLF}   ${v.slice(at)}`;
};

/** A multipart/report; report-type=delivery-status (RFC 3464 §2, RFC 6522), with the original's headers. */
export function buildDsn(o: { to: string; recipients: DsnRecipientSpec[]; originalHeaders?: string; reportingMta?: string; globalStatus?: boolean }): string {
  const boundary = "dsn-boundary-42";
  const perMessage = [`Reporting-MTA: dns; ${o.reportingMta ?? "mx.dest.test"}`, "Arrival-Date: Mon, 1 Jun 2026 10:00:00 +0000"].join(CRLF);
  const perRecipient = o.recipients.map((r) =>
    [
      ...(r.originalRecipient ? [`Original-Recipient: rfc822;${r.originalRecipient}`] : []),
      `Final-Recipient: rfc822; ${r.finalRecipient}`,
      `Action: ${r.action}`,
      `Status: ${r.status}`,
      ...(r.remoteMta ? [`Remote-MTA: dns; ${r.remoteMta}`] : []),
      // Folded, as Postfix writes long diagnostics (RFC 3464 §2.1: header-style continuation lines).
      ...(r.diagnostic ? [`Diagnostic-Code: smtp; ${fold(r.diagnostic)}`] : []),
    ].join(CRLF),
  );
  return [
    "From: MAILER-DAEMON@mx.dest.test",
    `To: ${o.to}`,
    "Subject: Undelivered Mail Returned to Sender",
    "Date: Mon, 1 Jun 2026 10:00:01 +0000",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "I'm sorry to have to inform you that your message could not be delivered.",
    "",
    `--${boundary}`,
    `Content-Type: message/${o.globalStatus ? "global-" : ""}delivery-status`,
    "",
    perMessage,
    "",
    perRecipient.join(`${CRLF}${CRLF}`),
    "",
    `--${boundary}`,
    "Content-Type: text/rfc822-headers",
    "",
    o.originalHeaders ?? "Subject: hello",
    "",
    `--${boundary}--`,
    "",
  ].join(CRLF);
}

/** A multipart/report; report-type=feedback-report (RFC 5965 §2), the original as message/rfc822. */
export function buildArf(o: { to: string; feedbackType?: string; originalMailFrom?: string; originalRcptTo?: string; original: string; userAgent?: string }): string {
  const boundary = "arf-boundary-7";
  const fields = [
    `Feedback-Type: ${o.feedbackType ?? "abuse"}`,
    `User-Agent: ${o.userAgent ?? "SomeGenerator/1.0"}`,
    "Version: 1",
    ...(o.originalMailFrom ? [`Original-Mail-From: <${o.originalMailFrom}>`] : []),
    ...(o.originalRcptTo ? [`Original-Rcpt-To: <${o.originalRcptTo}>`] : []),
    "Arrival-Date: Mon, 1 Jun 2026 10:00:00 +0000",
    "Source-IP: 192.0.2.1",
  ].join(CRLF);
  return [
    "From: <abuse@isp.test>",
    `To: <${o.to}>`,
    "Subject: FW: complaint about a message",
    "Date: Mon, 1 Jun 2026 10:05:00 +0000",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=\"US-ASCII\"",
    "Content-Transfer-Encoding: 7bit",
    "",
    "This is an email abuse report for an email message received from IP 192.0.2.1.",
    "",
    `--${boundary}`,
    "Content-Type: message/feedback-report",
    "",
    fields,
    "",
    `--${boundary}`,
    "Content-Type: message/rfc822",
    "Content-Disposition: inline",
    "",
    o.original,
    "",
    `--${boundary}--`,
    "",
  ].join(CRLF);
}
