/** STARTTLS (RFC 3207): the reply, the handshake through the transport, and the reset after it. */
import { replies } from "../core/reply.ts";
import { EMPTY, type SessionState } from "./session-state.ts";
import { errorFields } from "../core/log.ts";

/** `resume` restarts the input loop once the handshake is done. */
export function startTls(s: SessionState, arg: string, resume: () => void): void {
  if (arg.trim()) return s.send(replies.syntax("STARTTLS takes no argument"));
  if (s.tls) return s.send(replies.badSequence("TLS already active"));
  if (!s.config.tlsAvailable) return s.send(replies.tlsUnavailable);
  s.send(replies.readyTls);
  s.flush();
  // RFC 3207 §4.2 / CVE-2011-0411: anything pipelined behind STARTTLS is discarded.
  s.buf = EMPTY;
  s.mode = "tls";
  s.transport.startTls().then(
    (info) => {
      if (s.mode !== "tls") return;
      // RFC 3207 §4.2: forget everything learned before TLS.
      s.tls = info;
      s.helo = null;
      s.esmtp = false;
      s.authPrincipal = null;
      s.tx = null;
      s.mode = "command";
      resume();
    },
    (err) => {
      s.log("tls_failed", { session: s.sessionId, error: errorFields(err) });
      s.mode = "closed";
      s.transport.close();
    },
  );
}
