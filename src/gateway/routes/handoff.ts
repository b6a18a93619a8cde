/**
 * Routes an ingress-only node calls (SMARTHOST_GATEWAY_URL): AUTH, MAIL, RCPT and end of
 * data, answered by the same in-process handler. Only with the shared token.
 */
import { Hono } from "hono";
import type { Credentials, Envelope, SessionInfo, SubmissionHandler } from "../../smtp/handler.ts";
import type { Mailbox } from "../../smtp/address.ts";
import type { MailParams, RcptParams } from "../../smtp/params.ts";
import { constantTimeEqual } from "../../util/bytes.ts";
import { GatewayError } from "../errors.ts";
import { decodeMessageBody } from "../handoff.ts";

interface StepBody {
  session: SessionInfo;
  credentials?: Credentials;
  from?: Mailbox | null;
  params?: MailParams & RcptParams;
  envelope?: Envelope;
  to?: Mailbox;
  id?: string;
}

export function handoffRoutes(handler: SubmissionHandler, token: string): Hono {
  const app = new Hono();
  app.use("*", async (c, next) => {
    const presented = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
    if (!constantTimeEqual(presented, token)) throw new GatewayError("unauthenticated", "Bad gateway token");
    await next();
  });
  const json = async (body: Promise<string>): Promise<StepBody> => {
    try {
      return JSON.parse(await body) as StepBody;
    } catch {
      throw new GatewayError("invalid", "Body is not valid JSON", { code: "invalid_json" });
    }
  };
  app.post("/identify", async (c) => {
    const b = await json(c.req.text());
    return c.json({ principal: await handler.identify(b.session) });
  });
  app.post("/auth", async (c) => {
    const b = await json(c.req.text());
    return c.json(await handler.authenticate(b.session, b.credentials!));
  });
  app.post("/sender", async (c) => {
    const b = await json(c.req.text());
    return c.json({ reply: await handler.checkSender(b.session, b.from ?? null, b.params ?? { smtputf8: false }) });
  });
  app.post("/recipient", async (c) => {
    const b = await json(c.req.text());
    return c.json({ reply: await handler.checkRecipient(b.session, b.envelope!, b.to!, b.params ?? {}) });
  });
  app.post("/accept", async (c) => {
    const decoded = decodeMessageBody(new Uint8Array(await c.req.arrayBuffer()));
    if (!decoded) throw new GatewayError("invalid", "Malformed handoff body", { code: "invalid_body" });
    const b = decoded.meta as StepBody;
    return c.json(await handler.accept(b.session, b.envelope!, decoded.raw, b.id!));
  });
  return app;
}
