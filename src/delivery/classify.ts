/**
 * What an upstream's reply means for the mail, decided by the reply code (RFC 5321 §4.2.1),
 * the enhanced status code (RFC 3463 and the IANA registry of RFC 5248) and the stage of
 * the transaction it answered — never by the words of the text, which every provider
 * phrases differently.
 *
 * The scope says who the refusal is about: the recipient (bounce or retry that one), the
 * message (every recipient shares its fate), or the route (the way we reached the
 * upstream: our credentials, our account, our rate — never a reason to bounce good mail).
 */
import { AUTH_CODES, type Outcome, type Scope, type Stage } from "../core/delivery-result.ts";
import type { Reply } from "../core/reply.ts";

export interface Classification {
  outcome: Outcome;
  scope: Scope;
}

export interface Upstream {
  /** A provider relay we authenticate to (a smart host), as opposed to a domain's MX. */
  relay: boolean;
}

/** The session before the first MAIL: refusals there are about the connection or us. */
const SESSION_STAGES = new Set<Stage>(["connect", "greeting", "EHLO", "HELO", "STARTTLS", "AUTH", "RSET", "QUIT"]);

/**
 * x.7.y codes about the authenticated account rather than a message (IANA registry):
 * 7.8 credentials invalid, 7.9 mechanism too weak, 7.10/7.11 encryption needed, 7.12
 * password transition, 7.13 account disabled, 7.14 trust relationship required.
 */
const ACCOUNT_DETAILS = new Set([8, 9, 10, 11, 12, 13, 14]);

/** RFC 3463 §2: class.subject.detail. */
function parts(enhanced: string | undefined): [number, number, number] | null {
  const m = /^([245])\.(\d{1,3})\.(\d{1,3})$/.exec(enhanced ?? "");
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/**
 * A provider relay refusing our account (credentials, authorisation, quota), not the mail.
 * Never decided at RCPT from one reply: see refusesAccountAtRcpt and classifyRecipients.
 */
function aboutAccount(r: Reply, stage: Stage, subject: number | undefined, detail: number | undefined): boolean {
  if (stage === "RCPT") return false;
  if (AUTH_CODES.has(r.code)) return true;
  if (subject !== 7) return false;
  // At MAIL a relay's 5.7.0/5.7.1 is "you may not send this" — sender not allowed on this
  // account. After DATA it is usually about the content.
  if (stage === "MAIL") return true;
  return ACCOUNT_DETAILS.has(detail ?? -1) && stage !== "end of DATA";
}

/**
 * A relay's permanent refusal at RCPT that could be about our account ("relaying denied",
 * RFC 4954 §6 "authentication required") — or about that one address (a provider's
 * suppression or policy list answers 550 5.7.1 too). The reply alone cannot tell which.
 */
function refusesAccountAtRcpt(r: Reply, upstream: Upstream): boolean {
  if (!upstream.relay || r.code < 500) return false;
  return AUTH_CODES.has(r.code) || parts(r.enhanced)?.[1] === 7;
}

export function classifyReply(r: Reply, stage: Stage, upstream: Upstream): Classification {
  const perRecipient = stage === "RCPT";
  const own: Scope = perRecipient ? "recipient" : "message";
  if (r.code < 400) return { outcome: "delivered", scope: own };
  const [, subject, detail] = parts(r.enhanced) ?? [undefined, undefined, undefined];

  // RFC 5321 §3.8: 421 is the server closing the session — about the session, never the
  // recipient it happens to answer (a server going down mid-transaction says it to RCPT).
  if (r.code === 421 && perRecipient) return { outcome: "transient", scope: upstream.relay ? "route" : "message" };
  if (r.code < 500) {
    // 4xx is transient whatever it says (4.2.2 mailbox full included); a relay's 4.7.x at
    // the session or MAIL is about our account or rate: the next route may take it.
    const route = SESSION_STAGES.has(stage) || (upstream.relay && (subject === 7 || AUTH_CODES.has(r.code)) && stage !== "RCPT");
    return { outcome: "transient", scope: route ? "route" : own };
  }

  // RFC 3463 X.4.5 "mail system congestion": only ever a persistent transient error
  // (Gmail's "550 5.4.5 Daily user sending limit exceeded").
  if (subject === 4 && detail === 5) return { outcome: "transient", scope: "route" };

  if (upstream.relay) {
    // Whatever a relay says before MAIL is about our session with it (auth, TLS, policy
    // on our address): retry, try the next route, never bounce.
    if (SESSION_STAGES.has(stage)) return { outcome: "transient", scope: "route" };
    if (aboutAccount(r, stage, subject, detail)) return { outcome: "transient", scope: "route" };
  }

  // RFC 5321 §4.5.3.1.10: a 552 to RCPT is the old "too many recipients", to be treated as 452.
  if (perRecipient && r.code === 552 && (subject === undefined || (subject === 5 && detail === 3))) {
    return { outcome: "transient", scope: "recipient" };
  }
  return { outcome: "permanent", scope: own };
}

/**
 * The RCPT replies of one transaction, judged together. A relay that accepts one recipient
 * and refuses another with 5.7.x has shown that our account may send: the refusal is about
 * that recipient (bounced like any 5xx to RCPT: RFC 5321 §4.2.1, permanent). Only when the relay
 * refuses every recipient so does the refusal count as about the route — transient, the
 * mail kept for another route or a later try.
 */
export function classifyRecipients(replies: Reply[], upstream: Upstream): Classification[] {
  const wholeSession = replies.length > 0 && replies.every((r) => refusesAccountAtRcpt(r, upstream));
  if (wholeSession) return replies.map(() => ({ outcome: "transient", scope: "route" }));
  return replies.map((r) => classifyReply(r, "RCPT", upstream));
}

