/**
 * An ingress-only node's SubmissionHandler: every decision is asked of a gateway in
 * another process over HTTP(S). The ingress never sees the database.
 *
 * Each request is signed with a key derived from the shared token (the token itself never
 * travels) and redirects are refused: a gateway URL that answers 3xx must not make this
 * node send a client's password elsewhere. Every answer must carry the gateway's
 * signature over this very request and match its schema; anything else counts as no answer. The principal the gateway issues (a signed
 * grant) is carried back as received, and replaced when the gateway renews it.
 * When the gateway cannot be reached the client gets a temporary failure, never a 250.
 */
import * as v from "valibot";
import type { Mailbox } from "../smtp/address.ts";
import type { AcceptOutcome, AuthOutcome, Credentials, Envelope, Principal, SessionInfo, SubmissionHandler } from "../smtp/handler.ts";
import type { MailParams, RcptParams } from "../smtp/params.ts";
import { policyReplies, type Reply } from "../core/reply.ts";
import { encodeMessageBody, HANDOFF_CONTENT_TYPE, HANDOFF_PATH, StepReplies, type HandoffStep, type StepReply } from "../gateway/handoff.ts";
import { deriveLinkKeys, SIGNATURE_HEADER, signRequest, verifyResponse } from "../gateway/link-auth.ts";
import { errorFields } from "../core/log.ts";
import type { Logger } from "../core/log.ts";

const TIMEOUT_MS = 60_000;
const ok = <T extends v.GenericSchema>(schema: T, data: unknown) => {
  const r = v.safeParse(schema, data);
  return r.success ? (r.output as v.InferOutput<T>) : null;
};
// The gateway's JSON error, for the log line only.
const ErrorBody = v.pipe(v.object({ error: v.object({ code: v.string() }) }), v.transform((b) => b.error.code));

export function createRemoteHandler(baseUrl: string, token: string, log: Logger, opts: { now?: () => number } = {}): SubmissionHandler {
  const now = opts.now ?? Date.now;
  const base = baseUrl.replace(/\/$/, "");
  const keys = deriveLinkKeys(token);
  // The newest grant for a principal the session holds (the session keeps the first one).
  const renewed = new WeakMap<Principal, string>();

  async function call<S extends HandoffStep>(step: S, body: Uint8Array, contentType: string): Promise<StepReply<S> | null> {
    const path = `${HANDOFF_PATH}/${step}`;
    try {
      const signed = await signRequest((await keys).request, "POST", path, body, now());
      const res = await fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": contentType, ...signed },
        body,
        redirect: "error",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      if (!res.ok) {
        const code = await res.json().then((j: unknown) => (ok(ErrorBody, j) ?? undefined), () => undefined);
        log("handoff_failed", { step, status: res.status, code });
        return null;
      }
      const answer = new Uint8Array(await res.arrayBuffer());
      if (!(await verifyResponse((await keys).response, signed[SIGNATURE_HEADER]!, res.status, answer, res.headers.get(SIGNATURE_HEADER)))) {
        log("handoff_failed", { step, status: res.status, error: "answer is not signed by the gateway" });
        return null;
      }
      const parsed = v.safeParse(StepReplies[step], JSON.parse(new TextDecoder().decode(answer)));
      if (!parsed.success) {
        log("handoff_failed", { step, status: res.status, error: `reply does not match the handoff schema: ${parsed.issues[0]!.message}` });
        return null;
      }
      return parsed.output as StepReply<S>;
    } catch (err) {
      log("handoff_failed", { step, error: errorFields(err) });
      return null;
    }
  }

  /** The session as sent: the principal with its newest grant. */
  const wire = (session: SessionInfo) => {
    const p = session.principal;
    return { ...session, principal: p && { username: p.username, accountId: p.accountId, grant: renewed.get(p) ?? p.grant } };
  };
  const keep = (session: SessionInfo, r: { grant?: string } | null) => {
    if (r?.grant && session.principal) renewed.set(session.principal, r.grant);
  };
  const post = <S extends HandoffStep>(step: S, body: unknown) => call(step, new TextEncoder().encode(JSON.stringify(body)), "application/json");

  return {
    async identify(session: SessionInfo) {
      return (await post("identify", { session: wire(session) }))?.principal ?? null;
    },
    async authenticate(session: SessionInfo, credentials: Credentials): Promise<AuthOutcome> {
      return (await post("auth", { session: wire(session), credentials })) ?? { ok: false, reply: policyReplies.authUnavailable };
    },
    async checkSender(session: SessionInfo, from: Mailbox | null, params: MailParams): Promise<Reply | null> {
      const r = await post("sender", { session: wire(session), from, params });
      keep(session, r);
      return r ? r.reply : policyReplies.gatewayUnavailable;
    },
    async checkRecipient(session: SessionInfo, envelope: Envelope, to: Mailbox, params: RcptParams): Promise<Reply | null> {
      const r = await post("recipient", { session: wire(session), envelope, to, params });
      keep(session, r);
      return r ? r.reply : policyReplies.gatewayUnavailable;
    },
    async accept(session: SessionInfo, envelope: Envelope, message: Uint8Array, id: string): Promise<AcceptOutcome> {
      const r = await call("accept", encodeMessageBody({ session: wire(session), envelope, id }, message), HANDOFF_CONTENT_TYPE);
      keep(session, r);
      if (!r) return { ok: false, reply: policyReplies.gatewayUnavailable };
      return r.ok ? { ok: true, id: r.id } : { ok: false, reply: r.reply };
    },
  };
}
