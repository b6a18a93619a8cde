/**
 * An ingress-only node's SubmissionHandler: every decision is asked of a gateway in
 * another process over HTTP(S) with a shared token. The ingress never sees the database.
 * When the gateway cannot be reached the client gets a temporary failure, never a 250.
 */
import type { Mailbox } from "../smtp/address.ts";
import type { AcceptOutcome, AuthOutcome, Credentials, Envelope, Principal, SessionInfo, SubmissionHandler } from "../smtp/handler.ts";
import type { MailParams, RcptParams } from "../smtp/params.ts";
import { reply, type Reply } from "../smtp/reply.ts";
import { encodeMessageBody, HANDOFF_CONTENT_TYPE, HANDOFF_PATH } from "../gateway/handoff.ts";
import type { Logger } from "../smtp/session-types.ts";

const unreachable = reply(451, "4.4.1", "Gateway unavailable, try again later");
const TIMEOUT_MS = 60_000;

export function createRemoteHandler(baseUrl: string, token: string, log: Logger): SubmissionHandler {
  const url = (step: string) => `${baseUrl.replace(/\/$/, "")}${HANDOFF_PATH}/${step}`;

  async function call<T>(step: string, body: string | Uint8Array, contentType: string): Promise<T | null> {
    try {
      const res = await fetch(url(step), {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": contentType },
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      if (!res.ok) {
        log("handoff_failed", { step, status: res.status });
        return null;
      }
      return (await res.json()) as T;
    } catch (err) {
      log("handoff_failed", { step, error: String(err) });
      return null;
    }
  }
  const post = <T>(step: string, body: unknown) => call<T>(step, JSON.stringify(body), "application/json");

  return {
    async identify(session: SessionInfo) {
      return (await post<{ principal: Principal | null }>("identify", { session }))?.principal ?? null;
    },
    async authenticate(session: SessionInfo, credentials: Credentials): Promise<AuthOutcome> {
      return (await post<AuthOutcome>("auth", { session, credentials })) ?? { ok: false, reply: reply(454, "4.7.0", "Temporary authentication failure") };
    },
    async checkSender(session: SessionInfo, from: Mailbox | null, params: MailParams): Promise<Reply | null> {
      const r = await post<{ reply: Reply | null }>("sender", { session, from, params });
      return r ? r.reply : unreachable;
    },
    async checkRecipient(session: SessionInfo, envelope: Envelope, to: Mailbox, params: RcptParams): Promise<Reply | null> {
      const r = await post<{ reply: Reply | null }>("recipient", { session, envelope, to, params });
      return r ? r.reply : unreachable;
    },
    async accept(session: SessionInfo, envelope: Envelope, message: Uint8Array, id: string): Promise<AcceptOutcome> {
      const body = encodeMessageBody({ session, envelope, id }, message);
      return (await call<AcceptOutcome>("accept", body, HANDOFF_CONTENT_TYPE)) ?? { ok: false, reply: unreachable };
    },
  };
}
