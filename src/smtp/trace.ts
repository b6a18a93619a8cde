/** The Received: trace header, RFC 5321 §4.4 (protocol names: RFC 3848, RFC 6531 §4.3). */
import type { Envelope, SessionInfo } from "./handler.ts";

export function protocolName(session: SessionInfo, utf8: boolean): string {
  const base = utf8 ? "UTF8SMTP" : session.esmtp ? "ESMTP" : "SMTP";
  if (!session.esmtp && !utf8) return base;
  return `${base}${session.tls ? "S" : ""}${session.authenticated ? "A" : ""}`;
}

/** RFC 5322 §3.3 date-time, in UTC. */
export function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, "+0000");
}

export function receivedHeader(host: string, session: SessionInfo, envelope: Envelope, id: string, now: Date): string {
  const from = session.helo ?? "unknown";
  const tls = session.tls ? `\r\n\t(using ${session.tls.protocol} with cipher ${session.tls.cipher})` : "";
  // Name the recipient only when there is one, so a message does not list its Bcc recipients.
  const only = envelope.recipients.length === 1 ? envelope.recipients[0] : undefined;
  const forClause = only ? `\r\n\tfor <${only.mailbox.address}>` : "";
  const proto = protocolName(session, envelope.params.smtputf8);
  return (
    `Received: from ${from} ([${session.remoteAddress}])\r\n` +
    `\tby ${host} (smarthost) with ${proto} id ${id}${tls}${forClause};\r\n` +
    `\t${rfc5322Date(now)}\r\n`
  );
}
