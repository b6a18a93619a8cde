/** The submission API: POST /v1/messages, POST /v1/messages/raw, GET /v1/messages/:id. */
import { Hono, type Context } from "hono";
import { base64ToBytes } from "../../util/bytes.ts";
import { composeMessage } from "../../mime/compose.ts";
import { parseSingleAddress, type NamedAddress } from "../../mime/addresses.ts";
import type { Accepted, Gateway } from "../gateway.ts";
import { MessageBody, RawBody } from "../schemas.ts";
import { normalizeLineEndings } from "../../mime/line-endings.ts";
import { listMessages } from "./message-list.ts";
import { readJson, requireAccount, type AccountEnv } from "./account-scope.ts";
import { Failure } from "../../core/failure.ts";
import type { Storage } from "../../db/storage.ts";
import { messageView } from "../../queue/message-view.ts";


function idempotencyKey(c: Context): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) throw new Failure("invalid", "Idempotency-Key must be 1-255 printable ASCII characters", { code: "invalid_idempotency_key", field: "Idempotency-Key" });
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

export function messageRoutes(gateway: Gateway, storage: Storage, hostname: string): Hono<AccountEnv> {
  const app = new Hono<AccountEnv>();

  app.use("*", requireAccount(gateway.auth));

  app.post("/", async (c) => {
    const key = idempotencyKey(c);
    const body = await readJson(c, MessageBody);
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
    const outcome = await gateway.submit({
      accountId: c.get("accountId"),
      source: "http",
      mailFrom: from.address,
      headerFrom: [from.address],
      recipients: rcpts.map((r) => ({ address: r.address, domain: r.domain })),
      raw,
      idempotencyKey: key,
      smtputf8: [from, ...rcpts].some((a) => a.utf8),
      suppressionsListed: c.get("suppressionsListed"),
      listUnsubscribe: body.list_unsubscribe,
    });
    return c.json(acceptedBody(outcome), 202);
  });

  app.post("/raw", async (c) => {
    const key = idempotencyKey(c);
    const body = await readJson(c, RawBody);
    const from = body.mail_from === "" ? null : address(body.mail_from, "mail_from");
    const rcpts = list(body.rcpt_to, "rcpt_to");
    gateway.policy.checkRecipientCount(rcpts.length);
    const decoded = base64ToBytes(body.raw);
    const raw = normalizeLineEndings(decoded);
    if (raw === null) throw new Failure("invalid", "raw: a line is longer than 998 octets", { code: "line_too_long", field: "raw" });
    const outcome = await gateway.submit({
      accountId: c.get("accountId"),
      source: "http",
      mailFrom: from?.address ?? null,
      recipients: rcpts.map((r) => ({ address: r.address, domain: r.domain })),
      raw,
      idempotencyKey: key,
      smtputf8: [...rcpts, ...(from ? [from] : [])].some((a) => a.utf8),
      suppressionsListed: c.get("suppressionsListed"),
      listUnsubscribe: body.list_unsubscribe,
    });
    return c.json(acceptedBody(outcome), 202);
  });

  app.get("/:id", async (c) => c.json(await messageView(storage.db, c.get("accountId"), c.req.param("id"))));

  app.get("/", async (c) => c.json(await listMessages(storage.sql, c.get("accountId"), c)));

  return app;
}
