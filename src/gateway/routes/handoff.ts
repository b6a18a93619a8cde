/**
 * Routes an ingress-only node calls (SMARTHOST_GATEWAY_URL): AUTH, identify, MAIL, RCPT
 * and end of data, answered by the same in-process handler.
 *
 * Nothing the ingress sends is believed as it stands: every request must carry a fresh,
 * unreplayed signature made with the shared token (link-auth.ts), every body must match
 * its schema (a malformed one is a 400, never a 500), and who is sending comes only from
 * the grant this gateway issued at AUTH or identify (grants.ts) — an account id sent
 * beside it is refused. Every answer to a signed request is signed in turn.
 */
import { Hono, type Context } from "hono";
import * as v from "valibot";
import type { SessionInfo, SubmissionHandler } from "../../smtp/handler.ts";
import { policyReplies, type Reply } from "../../core/reply.ts";
import type { Logger } from "../../core/log.ts";
import { issueGrant, verifyGrant } from "../grants.ts";
import { decodeMessageBody, StepBodies, type HandoffStep, type StepBody } from "../handoff.ts";
import { deriveLinkKeys, ReplayGuard, SIGNATURE_HEADER, signResponse, verifyRequest } from "../link-auth.ts";
import { issueField } from "../schemas.ts";
import { Failure } from "../../core/failure.ts";

type Env = { Variables: { body: Uint8Array } };
type WireSession = StepBody<"identify">["session"];

export interface HandoffOptions {
  log: Logger;
  now?: () => number;
}

export function handoffRoutes(handler: SubmissionHandler, token: string, opts: HandoffOptions): Hono<Env> {
  const app = new Hono<Env>();
  const now = opts.now ?? Date.now;
  const keys = deriveLinkKeys(token);
  const guard = new ReplayGuard();

  const refuse = (step: string, code: string, message: string): never => {
    opts.log("handoff_refused", { step, code });
    throw new Failure("unauthenticated", message, { code });
  };

  app.use("*", async (c, next) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const check = await verifyRequest((await keys).request, guard, { method: c.req.method, path: c.req.path, headers: (n) => c.req.header(n), body }, now());
    if (!check.ok) refuse(c.req.path, check.code, check.message);
    c.set("body", body);
    await next();
    // Errors thrown by the routes are answers by now (app.onError), so they are signed too.
    const answer = new Uint8Array(await c.res.clone().arrayBuffer());
    const signature = await signResponse((await keys).response, c.req.header(SIGNATURE_HEADER)!, c.res.status, answer);
    c.res = new Response(answer, c.res);
    c.res.headers.set(SIGNATURE_HEADER, signature);
  });

  const parse = <S extends HandoffStep>(step: S, data: unknown): StepBody<S> => {
    const result = v.safeParse(StepBodies[step], data);
    if (!result.success) {
      const { field, message } = issueField(result.issues);
      throw new Failure("invalid", message, { code: "invalid_body", field });
    }
    return result.output as StepBody<S>;
  };
  const json = <S extends HandoffStep>(c: Context<Env>, step: S): StepBody<S> => {
    let data: unknown;
    try {
      data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(c.get("body")));
    } catch {
      throw new Failure("invalid", "Body is not valid JSON", { code: "invalid_json" });
    }
    return parse(step, data);
  };

  /** The session as this gateway vouches for it: the principal from a valid grant, or none. */
  async function trusted(step: HandoffStep, s: WireSession): Promise<{ session: SessionInfo; grant?: string } | { refusal: Reply }> {
    if (!s.principal) return { session: { ...s, principal: null, authenticated: false } };
    const grant = s.principal.grant;
    const check = grant ? await verifyGrant((await keys).grant, grant, s, now()) : null;
    if (check && !check.ok && check.reason === "expired") return { refusal: policyReplies.grantExpired };
    if (!check?.ok) return refuse(step, "bad_grant", "The principal was not issued by this gateway for this session");
    // An account or user named beside a valid grant that is not the grant's is a forgery, not a slip.
    if (s.principal.accountId !== check.principal.accountId || s.principal.username !== check.principal.username) {
      return refuse(step, "bad_grant", "The principal does not match its grant");
    }
    const session: SessionInfo = { ...s, principal: check.principal, authenticated: check.via === "auth" };
    if (!check.renew) return { session };
    return { session, grant: await issueGrant((await keys).grant, { sessionId: s.sessionId, remoteAddress: s.remoteAddress, principal: check.principal, via: check.via }, now()) };
  }

  /** At AUTH and identify only the gateway decides who is sending; what the ingress said is dropped. */
  const unauthenticated = (s: WireSession): SessionInfo => ({ ...s, principal: null, authenticated: false });
  const grantFor = async (s: WireSession, principal: { username: string; accountId: string }, via: "auth" | "network") => ({
    username: principal.username,
    accountId: principal.accountId,
    grant: await issueGrant((await keys).grant, { sessionId: s.sessionId, remoteAddress: s.remoteAddress, principal, via }, now()),
  });

  app.post("/identify", async (c) => {
    const b = json(c, "identify");
    const principal = await handler.identify(unauthenticated(b.session));
    return c.json({ principal: principal ? await grantFor(b.session, principal, "network") : null });
  });
  app.post("/auth", async (c) => {
    const b = json(c, "auth");
    const outcome = await handler.authenticate(unauthenticated(b.session), b.credentials);
    if (!outcome.ok) return c.json(outcome);
    return c.json({ ok: true, principal: await grantFor(b.session, outcome.principal, "auth") });
  });
  app.post("/sender", async (c) => {
    const b = json(c, "sender");
    const t = await trusted("sender", b.session);
    if ("refusal" in t) return c.json({ reply: t.refusal });
    return c.json({ reply: await handler.checkSender(t.session, b.from, b.params), grant: t.grant });
  });
  app.post("/recipient", async (c) => {
    const b = json(c, "recipient");
    const t = await trusted("recipient", b.session);
    if ("refusal" in t) return c.json({ reply: t.refusal });
    return c.json({ reply: await handler.checkRecipient(t.session, b.envelope, b.to, b.params), grant: t.grant });
  });
  app.post("/accept", async (c) => {
    const decoded = decodeMessageBody(c.get("body"));
    if (!decoded) throw new Failure("invalid", "Malformed handoff body", { code: "invalid_body" });
    const b = parse("accept", decoded.meta);
    const t = await trusted("accept", b.session);
    if ("refusal" in t) return c.json({ ok: false, reply: t.refusal });
    return c.json({ ...(await handler.accept(t.session, b.envelope, decoded.raw, b.id)), grant: t.grant });
  });
  return app;
}
