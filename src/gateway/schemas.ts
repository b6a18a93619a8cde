/**
 * Request bodies of the HTTP API (valibot). A value that could split a header — CR, LF,
 * NUL, U+2028, U+0085 — is refused in every header value, header name and file name, so
 * header injection cannot happen whatever the MIME builder does.
 */
import * as v from "valibot";
import { BASE64 } from "../util/bytes.ts";

const UNSAFE = /[\r\n\0\u2028\u2029\u0085]/;
const safe = (what: string) => v.check((s: string) => !UNSAFE.test(s), `${what} must not contain line breaks or NUL`);

const headerText = (what: string, max = 998) => v.pipe(v.string(`${what} must be a string`), v.maxLength(max, `${what} is too long`), safe(what));
const addressText = v.pipe(v.string("address must be a string"), v.minLength(3, "address is too short"), v.maxLength(998, "address is too long"), safe("address"));
const addressList = (field: string) => v.optional(v.pipe(v.array(addressText, `${field} must be an array of addresses`), v.maxLength(1000, `${field} has too many addresses`)), []);
const base64 = (what: string) => v.pipe(v.string(`${what} must be a base64 string`), v.transform((s) => s.replace(/\s+/g, "")), v.regex(BASE64, `${what} must be valid base64`));

// RFC 5322 §3.6.8 field-name: printable ASCII except ":".
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]{1,76}$/;
/** Headers the API sets itself or that a sender must never set. */
export const RESERVED_HEADERS = new Set([
  "bcc", "received", "return-path", "dkim-signature", "from", "to", "cc", "subject", "reply-to",
  "date", "message-id", "mime-version", "content-type", "content-transfer-encoding",
]);

const customHeaders = v.optional(
  v.pipe(
    v.record(
      v.pipe(v.string(), v.regex(HEADER_NAME, "header names must be printable ASCII without ':'"), v.check((n) => !RESERVED_HEADERS.has(n.toLowerCase()), "this header may not be set")),
      headerText("header value"),
      "headers must be an object of strings",
    ),
  ),
  {},
);

/**
 * The text of a strict object's issues, which valibot reports all through the object's
 * one message: a field it does not know (expected "never"), a required field that is
 * missing (received undefined: the field named, not "unknown field undefined"), and a
 * value that is no object at all.
 */
export function fieldIssue(issue: v.StrictObjectIssue): string {
  const key = issue.path?.at(-1)?.key;
  if (issue.expected === "never") return `unknown field ${issue.received}`;
  if (issue.received === "undefined" && typeof key === "string") return `${key} is required`;
  return `expected a JSON object, received ${issue.received}`;
}

/** One-click unsubscribe (RFC 8058) for this message; absent: the account's setting. */
const listUnsubscribe = v.optional(v.boolean("list_unsubscribe must be true or false"));

/** RFC 3339; the range (future, at most 30 days ahead) is checked against the clock (queue/schedule.ts). */
const sendAt = v.optional(v.pipe(v.string("send_at must be an RFC 3339 date-time string"), v.maxLength(64, "send_at is too long")));

export const MessageBody = v.strictObject(
  {
    from: addressText,
    to: addressList("to"),
    cc: addressList("cc"),
    bcc: addressList("bcc"),
    reply_to: v.optional(v.union([addressText, v.array(addressText)], "reply_to must be an address or an array of addresses")),
    subject: v.optional(headerText("subject")),
    text: v.optional(v.string("text must be a string")),
    html: v.optional(v.string("html must be a string")),
    headers: customHeaders,
    attachments: v.optional(
      v.array(
        v.strictObject({
          filename: v.pipe(headerText("filename", 255), v.minLength(1, "filename must not be empty")),
          content_type: v.optional(v.pipe(headerText("content_type", 255), v.regex(/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/, "content_type must be type/subtype"))),
          content: base64("content"),
        }, fieldIssue),
        "attachments must be an array",
      ),
      [],
    ),
    list_unsubscribe: listUnsubscribe,
    send_at: sendAt,
  },
  fieldIssue,
);
export type MessageBody = v.InferOutput<typeof MessageBody>;

/** The Idempotency-Key header's rule, for the header and a batch item's idempotency_key. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** One message of POST /v1/messages/batch: POST /v1/messages's body and its idempotency key. */
export const BatchItem = v.strictObject(
  { ...MessageBody.entries, idempotency_key: v.optional(v.pipe(v.string("idempotency_key must be a string"), v.regex(IDEMPOTENCY_KEY, "idempotency_key must be 1-255 printable ASCII characters"))) },
  fieldIssue,
);
export type BatchItem = v.InferOutput<typeof BatchItem>;

export const RawBody = v.strictObject(
  {
    mail_from: v.union([v.literal(""), addressText], "mail_from must be an address or \"\""),
    rcpt_to: v.pipe(v.array(addressText, "rcpt_to must be an array of addresses"), v.minLength(1, "rcpt_to must not be empty"), v.maxLength(1000, "rcpt_to has too many addresses")),
    raw: base64("raw"),
    list_unsubscribe: listUnsubscribe,
    send_at: sendAt,
  },
  fieldIssue,
);
export type RawBody = v.InferOutput<typeof RawBody>;

/** "to[2]" style path of the first issue, for the error body. */
export function issueField(issues: readonly v.BaseIssue<unknown>[]): { field: string; message: string } {
  const first = issues[0]!;
  const path = (first.path ?? [])
    .map((p) => (typeof p.key === "number" ? `[${p.key}]` : `.${String(p.key)}`))
    .join("")
    .replace(/^\./, "");
  return { field: path || "body", message: path ? `${path}: ${first.message}` : first.message };
}
