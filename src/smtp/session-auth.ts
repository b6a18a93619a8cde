/**
 * SMTP AUTH (RFC 4954): the preconditions on the AUTH command, then the SASL exchange
 * (sasl.ts) line by line until the handler accepts or refuses the credentials.
 */
import { replies } from "../core/reply.ts";
import { encodeBase64Text, SaslExchange, type SaslStep } from "./sasl.ts";
import type { SessionState } from "./session-state.ts";

export async function auth(s: SessionState, arg: string): Promise<void> {
  if (s.config.offerAuth === false) return s.send(replies.notImplemented);
  if (s.authPrincipal) return s.send(replies.badSequence("Already authenticated"));
  if (s.tx) return s.send(replies.badSequence("AUTH not permitted during a mail transaction"));
  if (!s.helo || !s.esmtp) return s.send(replies.badSequence("Send EHLO first"));
  if (!s.tls && !s.config.allowInsecureAuth) {
    return s.send(s.config.tlsAvailable ? replies.mustStartTls : replies.encryptionRequired);
  }
  const [mech = "", initial, ...extra] = arg.split(" ");
  if (extra.length > 0) return s.send(replies.syntax("Syntax: AUTH mechanism [initial-response]"));
  const exchange = SaslExchange.open(mech);
  if (!exchange) return s.send(replies.unknownMechanism);
  s.sasl = exchange;
  return authStep(s, exchange.begin(initial));
}

/** A client's line while the exchange is open. */
export function authResponse(s: SessionState, line: string): Promise<void> {
  return authStep(s, s.sasl!.respond(line));
}

async function authStep(s: SessionState, step: SaslStep): Promise<void> {
  if (step.kind === "challenge") {
    s.mode = "auth";
    return s.send(replies.authChallenge(encodeBase64Text(step.text)));
  }
  endAuth(s);
  if (step.kind === "cancelled") return s.send(replies.authCancelled);
  if (step.kind === "malformed") return s.send(replies.badBase64);
  if (step.kind === "malformed-plain") return s.send(replies.malformedPlain);
  const { kind: _, ...credentials } = step;
  const outcome = await s.handler.authenticate(s.info, credentials);
  if (!outcome.ok) {
    s.log("auth_failed", { session: s.sessionId, remote: s.peer.remoteAddress, user: credentials.username });
    return s.send(outcome.reply);
  }
  s.authPrincipal = outcome.principal;
  s.log("auth", { session: s.sessionId, user: credentials.username });
  s.send(replies.authOk);
}

/** Closes the exchange (done, cancelled, or its line refused); commands follow. */
export function endAuth(s: SessionState): void {
  s.sasl = null;
  if (s.mode === "auth") s.mode = "command";
}
