/**
 * What one delivery attempt says about each recipient: the words the delivery client, the
 * classifier, the queue and the route and destination gates share. A leaf of the house, so
 * the gates (shaping/) need not import the client that produces it.
 */
import type { Reply } from "./reply.ts";

export type Outcome = "delivered" | "transient" | "permanent";

/** Where in the session a reply came; "connect" covers socket and TLS failures. */
export type Stage = "connect" | "greeting" | "EHLO" | "HELO" | "STARTTLS" | "AUTH" | "RSET" | "MAIL" | "RCPT" | "DATA" | "end of DATA" | "QUIT";

export type Scope = "recipient" | "message" | "route";

export interface RecipientResult {
  address: string;
  outcome: Outcome;
  reply: Reply;
  /** Who the reply is about (classify.ts); "route" feeds the route's circuit breaker. */
  scope?: Scope;
  /** The stage whose reply decided this recipient. */
  stage?: Stage;
}

// RFC 4954 §6 replies to AUTH and to commands that need it: our credentials or TLS.
export const AUTH_CODES = new Set([530, 534, 535, 538]);

/**
 * A failure of our credentials: any refusal at AUTH, or an RFC 4954 §6 code (530 "authentication
 * required", 534, 535, 538) wherever it came. The next session would get the same answer.
 */
export function isAuthFailure(r: Reply, stage: Stage | null): boolean {
  return stage === "AUTH" || AUTH_CODES.has(r.code);
}
