/**
 * The submission API: POST /v1/messages, POST /v1/messages/raw, POST /v1/messages/batch,
 * GET /v1/messages/:id, and for a scheduled message PATCH (send_at) and DELETE (cancel).
 */
import { Hono, type Context } from "hono";
import * as v from "valibot";
import { base64ToBytes } from "../../util/bytes.ts";
import { composeMessage } from "../../mime/compose.ts";
import { parseSingleAddress, type NamedAddress } from "../../mime/addresses.ts";
import type { Accepted, Gateway, Submission } from "../gateway.ts";
import { BatchItem, fieldIssue, IDEMPOTENCY_KEY, issueField, MessageBody, RawBody } from "../schemas.ts";
import { toHttpError } from "../errors.ts";
import { cancelMessage, parseSendAt, rescheduleMessage } from "../../queue/schedule.ts";
import { normalizeLineEndings } from "../../mime/line-endings.ts";
import { listMessages } from "./message-list.ts";
import { readJson, requireAccount, type AccountEnv } from "./account-scope.ts";
import { asFailure, Failure } from "../../core/failure.ts";
import type { Storage } from "../../db/storage.ts";
import { messageView } from "../../queue/message-view.ts";
import { newId } from "../../smtp/ids.ts";
import { withHttpReceived } from "../http-trace.ts";
import { clientIp, clientTls } from "./admin-http.ts";
import type { Metrics } from "../metrics.ts";


function idempotencyKey(c: Context): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) throw new Failure("invalid", "Idempotency-Key must be 1-255 printable ASCII characters", { code: "invalid_idempotency_key", field: "Idempotency-Key" });
  return key;
}

/** One parse of an address, used for the header, the sender rule and the envelope. */
function address(value: string, field: string): NamedAddress {
  const parsed = parseSingleAddress(value);
  if (!parsed) throw new Failure("invalid", `${field}: not a valid email address`, { code: "invalid_address", field });
  return parsed;
}

const list = (values: string[], field: string) => values.map((x, i) => address(x, `${field}[${i}]`));

/** The 202 body; `warnings` only when there are some. */
const acceptedBody = (o: Accepted & { suppressed: string[] }) => ({ id: o.id, status: "queued" as const, suppressed: o.suppressed, ...(o.warnings.length > 0 ? { warnings: o.warnings } : {}) });

/** The 202 body (or a batch item's result): a scheduled message says when it goes. */
const answer = (o: Accepted & { suppressed: string[] }, sendAt: number | undefined) => ({ ...acceptedBody(o), ...(sendAt !== undefined ? { send_at: new Date(sendAt).toISOString() } : {}) });

const sendAtOf = (value: string | undefined) => (value === undefined ? undefined : parseSendAt(value, Date.now()));

const BatchBody = v.pipe(v.array(v.unknown(), "the body must be a JSON array of messages"), v.minLength(1, "the batch is empty"));
const SendAtPatch = v.strictObject({ send_at: v.string("send_at must be an RFC 3339 date-time string") }, fieldIssue);

type Caller = { accountId: string; suppressionsListed: boolean };

/** POST /v1/messages's body as a submission: each address parsed once, the MIME composed. */
async function jsonSubmission(gateway: Gateway, hostname: string, body: MessageBody, caller: Caller, key: string | undefined): Promise<Submission> {
  const sendAt = sendAtOf(body.send_at);
  const from = address(body.from, "from");
  const to = list(body.to, "to");
  const cc = list(body.cc, "cc");
  const bcc = list(body.bcc, "bcc");
  const replyTo = list(body.reply_to === undefined ? [] : Array.isArray(body.reply_to) ? body.reply_to : [body.reply_to], "reply_to");
  const rcpts = [...to, ...cc, ...bcc];
  if (rcpts.length === 0) throw new Failure("invalid", "At least one of to, cc, bcc is required", { code: "no_recipients", field: "to" });
  gateway.policy.checkRecipientCount(rcpts.length); // before composing: to, cc and bcc together
  if (body.text === undefined && body.html === undefined) throw new Failure("invalid", "text or html is required", { code: "invalid_field", field: "text" });
  const raw = await composeMessage({
    from,
    to,
    cc,
    replyTo,
    subject: body.subject,
    text: body.text,
    html: body.html,
    headers: body.headers,
    attachments: body.attachments.map((a) => ({ filename: a.filename, contentType: a.content_type, content: base64ToBytes(a.content) })),
    messageIdDomain: from.domain || hostname,
  });
  return {
    accountId: caller.accountId,
    source: "http",
    mailFrom: from.address,
    headerFrom: [from.address],
    recipients: rcpts.map((r) => ({ address: r.address, domain: r.domain })),
    raw,
    idempotencyKey: key,
    smtputf8: [from, ...rcpts].some((a) => a.utf8),
    suppressionsListed: caller.suppressionsListed,
    listUnsubscribe: body.list_unsubscribe,
    sendAt,
  };
}

/** The submission with its Received: field (gateway/http-trace.ts) and the queue id that field names. */
function traced(c: Context<AccountEnv>, hostname: string, s: Submission): Submission {
  const id = newId();
  const trace = { clientAddress: clientIp(c), keyId: c.get("keyId"), hostname, tls: clientTls(c) ?? new URL(c.req.url).protocol === "https:", id, recipients: s.recipients, now: new Date() };
  return { ...s, id, raw: withHttpReceived(s.raw, trace) };
}

/** One batch item: checked as POST /v1/messages checks its body; a refusal is its result. */
async function batchSubmission(gateway: Gateway, hostname: string, item: unknown, caller: Caller): Promise<Submission | Failure> {
  const parsed = v.safeParse(BatchItem, item);
  if (!parsed.success) {
    const { field, message } = issueField(parsed.issues);
    return new Failure("invalid", message, { code: "invalid_field", field });
  }
  const { idempotency_key, ...body } = parsed.output;
  return jsonSubmission(gateway, hostname, body, caller, idempotency_key).catch(asFailure);
}

export function messageRoutes(gateway: Gateway, storage: Storage, hostname: string, maxBatch: number, metrics?: Pick<Metrics, "acceptSeconds">): Hono<AccountEnv> {
  const app = new Hono<AccountEnv>();

  app.use("*", requireAccount(gateway.auth));
  // smarthost_accept_seconds: from the request body read (Hono keeps it for the route) to the response.
  // Middleware, not a route: the OpenAPI document lists routes.
  app.use("*", async (c, next) => {
    if (c.req.method !== "POST") return next();
    await c.req.text();
    const started = performance.now();
    await next();
    metrics?.acceptSeconds("http", c.res.status < 300 ? "accepted" : "refused", (performance.now() - started) / 1000);
  });
  const callerOf = (c: Context<AccountEnv>): Caller => ({ accountId: c.get("accountId"), suppressionsListed: c.get("suppressionsListed") });

  app.post("/", async (c) => {
    const key = idempotencyKey(c);
    const body = await readJson(c, MessageBody);
    const s = traced(c, hostname, await jsonSubmission(gateway, hostname, body, callerOf(c), key));
    return c.json(answer(await gateway.submit(s), s.sendAt), 202);
  });

  /**
   * Up to SMARTHOST_MAX_BATCH messages, the accepted ones in one commit. 200 whenever the
   * batch was read: each message's result in its place, `{id, status, …}` or `{error}`.
   */
  app.post("/batch", async (c) => {
    const items = await readJson(c, BatchBody);
    if (items.length > maxBatch) throw new Failure("too-large", `At most ${maxBatch} messages in one batch`, { code: "batch_too_large" });
    const prepared = (await Promise.all(items.map((item) => batchSubmission(gateway, hostname, item, callerOf(c))))).map((p) => (p instanceof Failure ? p : traced(c, hostname, p)));
    const submissions = prepared.filter((p): p is Submission => !(p instanceof Failure));
    const accepted = await gateway.submitBatch(submissions);
    let next = 0;
    const results = prepared.map((p) => (p instanceof Failure ? p : { submission: p, outcome: accepted[next++]! }));
    // Our own failure (storage) on every message: the request failed as a whole (logged, 503).
    const ours = results.find((r) => r instanceof Failure && r.isOurs);
    if (ours && results.every((r) => r instanceof Failure || r.outcome instanceof Failure)) throw ours;
    const data = results.map((r) => {
      const failure = r instanceof Failure ? r : r.outcome instanceof Failure ? r.outcome : null;
      if (failure) return { error: toHttpError(failure).body.error };
      const { submission, outcome } = r as { submission: Submission; outcome: Accepted & { suppressed: string[] } };
      return answer(outcome, submission.sendAt);
    });
    return c.json({ data }, 200);
  });

  app.post("/raw", async (c) => {
    const key = idempotencyKey(c);
    const body = await readJson(c, RawBody);
    const sendAt = sendAtOf(body.send_at);
    const from = body.mail_from === "" ? null : address(body.mail_from, "mail_from");
    const rcpts = list(body.rcpt_to, "rcpt_to");
    gateway.policy.checkRecipientCount(rcpts.length);
    const decoded = base64ToBytes(body.raw);
    const raw = normalizeLineEndings(decoded);
    if (raw === null) throw new Failure("invalid", "raw: a line is longer than 998 octets", { code: "line_too_long", field: "raw" });
    const outcome = await gateway.submit(traced(c, hostname, {
      accountId: c.get("accountId"),
      source: "http",
      mailFrom: from?.address ?? null,
      recipients: rcpts.map((r) => ({ address: r.address, domain: r.domain })),
      raw,
      idempotencyKey: key,
      smtputf8: [...rcpts, ...(from ? [from] : [])].some((a) => a.utf8),
      suppressionsListed: c.get("suppressionsListed"),
      listUnsubscribe: body.list_unsubscribe,
      sendAt,
    }));
    return c.json(answer(outcome, sendAt), 202);
  });

  app.get("/:id", async (c) => c.json(await messageView(storage.db, c.get("accountId"), c.req.param("id"))));

  // While nothing was sent: a new send_at (409 once the first attempt was made).
  app.patch("/:id", async (c) => {
    const body = await readJson(c, SendAtPatch);
    const id = c.req.param("id");
    await rescheduleMessage(storage.writer, { id, accountId: c.get("accountId"), sendAt: parseSendAt(body.send_at, Date.now()), now: Date.now() });
    return c.json(await messageView(storage.db, c.get("accountId"), id));
  });

  // Cancels every recipient not sent yet (409 when nothing is left to cancel).
  app.delete("/:id", async (c) => {
    const id = c.req.param("id");
    await cancelMessage(storage.writer, { id, accountId: c.get("accountId"), now: Date.now(), by: "sender" });
    return c.json(await messageView(storage.db, c.get("accountId"), id));
  });

  app.get("/", async (c) => c.json(await listMessages(storage.sql, c.get("accountId"), c)));

  return app;
}
