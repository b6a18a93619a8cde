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

/** Outcomes the delivery client records without an upstream having said them. */
export const upstreamReplies = {
  // RFC 3463: 4.4.1 no answer from host, 4.4.2 bad connection (a timeout).
  unreachable: (timeout: boolean, why: string) => reply(451, timeout ? "4.4.2" : "4.4.1", why),
  noAuthMechanism: reply(451, "4.7.0", "relay offers neither AUTH PLAIN nor AUTH LOGIN"),
  noStartTls: reply(451, "4.7.5", "TLS required but the server does not offer STARTTLS"),
  // RFC 3463 X.7.5 "cryptographic failure": the handshake or the certificate check failed.
  tlsFailed: (why: string) => reply(451, "4.7.5", why),
  plaintextAuth: reply(451, "4.7.5", "refusing to send credentials without TLS"),
  noSmtputf8: reply(550, "5.6.7", "the server does not support SMTPUTF8, which this message needs"),
  noRouteTried: reply(451, "4.4.0", "no route was tried"),
  // RFC 8461 §5: a policy in enforce mode that no MX host satisfies defers; never plaintext.
  mtaStsRefused: (why: string) => reply(451, "4.7.5", why),
  expired: (days: number, last: string) => reply(451, "4.4.7", `Message expired after ${days} day(s) in the queue; last reply: ${last}`),
  mxLookup: (permanent: boolean, enhanced: string, reason: string) => reply(permanent ? 550 : 451, enhanced, reason),
} as const;

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
  utf8NotAllowed: reply(553, "5.6.7", "Non-ASCII address requires SMTPUTF8"),
} as const;

const retryText = (s?: number) => (s !== undefined ? `; try again in ${s} seconds` : "");

/**
 * The gateway's answers (policy, limits, storage): gateway/errors.ts maps each kind of
 * refusal to one of these, and an ingress-only node uses the link ones. The text is what
 * the client is told; why it happened goes to the log, never here.
 */
export const policyReplies = {
  invalidMessage: (why: string) => reply(550, "5.6.0", why),
  authFailed: reply(535, "5.7.8", "Authentication credentials invalid"),
  authThrottled: (retryAfterSeconds?: number) => reply(454, "4.7.0", `Too many authentication failures${retryText(retryAfterSeconds)}`),
  // RFC 4954 §6: 454 4.7.0 when the server cannot authenticate for a temporary reason.
  authUnavailable: reply(454, "4.7.0", "Temporary authentication failure"),
  relayDenied: (why: string) => reply(554, "5.7.1", why),
  senderDenied: (why: string) => reply(550, "5.7.1", why),
  tooLarge: (why: string) => reply(552, "5.3.4", why),
  // RFC 3463: x.7.1 delivery not authorized (rate), x.5.3 too many recipients/messages (quota).
  rateLimited: (why: string, retryAfterSeconds?: number) => reply(451, "4.7.1", `${why}${retryText(retryAfterSeconds)}`),
  quotaReached: (why: string, retryAfterSeconds?: number) => reply(452, "4.5.3", `${why}${retryText(retryAfterSeconds)}`),
  notFound: (why: string) => reply(550, "5.1.1", why),
  // RFC 5321 §6.3 / RFC 3463 x.4.6: a routing loop (too many Received: fields).
  tooManyHops: (why: string) => reply(554, "5.4.6", why),
  // A suppressed recipient (the text says why and since when: a bounce, a complaint, by hand).
  suppressed: (why: string) => reply(550, "5.1.1", why),
  // RFC 7372 §3.4 X.7.26 "multiple authentication checks failed": neither DKIM nor SPF aligns (DMARC).
  unaligned: (why: string) => reply(550, "5.7.26", why),
  // RFC 3463 x.3.0: other or undefined mail system status (our storage, our bug).
  temporary: (why: string) => reply(451, "4.3.0", why),
  // RFC 3463 x.4.1: no answer from the next host (the remote gateway).
  gatewayUnavailable: reply(451, "4.4.1", "Gateway unavailable, try again later"),
  // The session's authorization at the gateway has lapsed: a new connection authenticates anew.
  grantExpired: reply(454, "4.7.0", "Session authorization expired; reconnect and authenticate again"),
} as const;
