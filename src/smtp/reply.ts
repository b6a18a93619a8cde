/**
 * SMTP replies as values (RFC 5321 §4.2, enhanced codes RFC 3463 / RFC 2034).
 * Every reply the server sends is built here; nothing else concatenates reply strings.
 */
export interface Reply {
  readonly code: number;
  /** Enhanced status code ("5.7.1"); absent only for the greeting and EHLO. */
  readonly enhanced?: string;
  readonly lines: readonly string[];
}

export function reply(code: number, enhanced: string | undefined, ...lines: string[]): Reply {
  return { code, enhanced, lines: lines.length > 0 ? lines : [""] };
}

/** Wire form: every line but the last uses "code-", the last "code ". */
export function formatReply(r: Reply): string {
  const prefix = r.enhanced ? `${r.enhanced} ` : "";
  let out = "";
  r.lines.forEach((line, i) => {
    const sep = i === r.lines.length - 1 ? " " : "-";
    out += `${r.code}${sep}${prefix}${line}\r\n`;
  });
  return out;
}

/** The fixed replies of the protocol core; policy replies come from the handler. */
export const replies = {
  closing: (host: string) => reply(221, "2.0.0", `${host} closing connection`),
  ok: reply(250, "2.0.0", "Ok"),
  senderOk: reply(250, "2.1.0", "Sender ok"),
  recipientOk: reply(250, "2.1.5", "Recipient ok"),
  resetOk: reply(250, "2.0.0", "Reset ok"),
  noop: reply(250, "2.0.0", "Ok"),
  queued: (id: string) => reply(250, "2.0.0", `Ok: queued as ${id}`),
  chunkOk: (n: number) => reply(250, "2.0.0", `${n} octets received`),
  vrfy: reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"),
  help: reply(214, "2.0.0", "See RFC 5321; commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH"),
  startData: reply(354, undefined, "End data with <CR><LF>.<CR><LF>"),
  readyTls: reply(220, "2.0.0", "Ready to start TLS"),
  authOk: reply(235, "2.7.0", "Authentication successful"),
  authChallenge: (b64: string) => reply(334, undefined, b64),

  tooManyErrors: reply(421, "4.7.0", "Too many errors, closing connection"),
  timeout: reply(421, "4.4.2", "Idle timeout, closing connection"),
  commandTimeout: reply(421, "4.4.2", "Command not completed in time, closing connection"),
  dataRateTooLow: reply(421, "4.4.2", "Message data arriving too slowly, closing connection"),
  shuttingDown: reply(421, "4.3.2", "Service shutting down, closing connection"),
  tooManyConnections: reply(421, "4.7.0", "Too many connections, try again later"),
  tooManyConnectionsFromIp: reply(421, "4.7.0", "Too many connections from your address, try again later"),
  tooManyRecipients: reply(452, "4.5.3", "Too many recipients"),
  tlsUnavailable: reply(454, "4.7.0", "TLS not available"),
  tempFailure: reply(451, "4.3.0", "Temporary failure, try again later"),

  unrecognized: reply(500, "5.5.1", "Command unrecognized"),
  lineTooLong: reply(500, "5.5.6", "Line too long"),
  authLineTooLong: reply(500, "5.5.6", "Authentication exchange line is too long"),
  syntax: (what: string) => reply(501, "5.5.4", what),
  badBase64: reply(501, "5.5.2", "Cannot decode base64 response"),
  malformedPlain: reply(501, "5.5.2", "Malformed PLAIN response"),
  authCancelled: reply(501, "5.0.0", "Authentication cancelled"),
  notImplemented: reply(502, "5.5.1", "Command not implemented"),
  badSequence: (what: string) => reply(503, "5.5.1", what),
  unknownMechanism: reply(504, "5.5.4", "Unrecognized authentication mechanism"),
  unknownParameter: (name: string) => reply(555, "5.5.4", `Unsupported parameter ${name}`),
  earlyTalker: reply(554, "5.5.0", "Protocol error: input before greeting"),
  improperPipelining: reply(554, "5.5.0", "Protocol error: commands sent before the EHLO reply"),
  nonSmtp: reply(554, "5.5.1", "Protocol error: not an SMTP command"),
  bareLineEnding: reply(554, "5.5.2", "Bare <CR> or <LF> received; only <CR><LF> ends a line"),
  messageBareLineEnding: reply(550, "5.6.11", "Message refused: bare <CR> or <LF> in message; only <CR><LF> ends a line"),
  messageLineTooLong: reply(550, "5.6.0", "Message refused: a line is longer than 998 octets"),
  tooBig: (max: number) => reply(552, "5.3.4", `Message size exceeds fixed limit of ${max} octets`),
  noValidRecipients: reply(554, "5.5.1", "No valid recipients"),
  encryptionRequired: reply(538, "5.7.11", "Encryption required for requested authentication mechanism"),
  mustStartTls: reply(530, "5.7.0", "Must issue a STARTTLS command first"),
  authFailed: reply(535, "5.7.8", "Authentication credentials invalid"),
  utf8NotAllowed: reply(553, "5.6.7", "Non-ASCII address requires SMTPUTF8"),
} as const;
