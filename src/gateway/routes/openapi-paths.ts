/**
 * The document's parts for routes that carry no description of their own (the submission
 * API, health, metrics): their request schemas are the valibot ones the routes validate
 * with (schemas.ts), converted here; and the shared error responses in our JSON shape.
 */
import { toJsonSchema } from "@valibot/to-json-schema";
import type * as v from "valibot";
import { BatchItem, MessageBody, RawBody } from "../schemas.ts";
import { ErrorBody } from "./admin-schemas.ts";
import { Accepted, BatchResults, MessagePage } from "./feedback-schemas.ts";
import { DEFAULT_MAX_BATCH } from "../../config.ts";
import { MESSAGE_STATUSES } from "../../events/message-search.ts";

// Transforms (base64 whitespace removal) have no JSON Schema form; the input shape is what a client sends.
export const schema = (s: v.GenericSchema): object => toJsonSchema(s, { target: "draft-2020-12", errorMode: "ignore" });

const errorExample = (code: string, message: string) => ({ error: { code, message } });
const errorResponse = (description: string, code: string, message: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" }, example: errorExample(code, message) } },
});

export const COMPONENTS = {
  securitySchemes: {
    apiKey: { type: "http", scheme: "bearer", description: "An account's API key (smarthost key add)" },
    adminToken: { type: "http", scheme: "bearer", description: "SMARTHOST_ADMIN_TOKEN" },
  },
  schemas: { Error: schema(ErrorBody) },
  responses: {
    Invalid: errorResponse("Invalid request", "invalid_field", "to[0]: address is too short"),
    Unauthenticated: errorResponse("Missing or invalid key or token", "unauthenticated", "Missing or invalid admin token"),
    Forbidden: errorResponse("Sender not allowed", "sender_denied", "From: address <x@other.test> not allowed for this account"),
    NotFound: errorResponse("No such object", "not_found", 'no account named "acme"'),
    Conflict: errorResponse("In use or already there", "conflict", 'account "acme" already exists'),
    TooLarge: errorResponse("Too large", "too_large", "Request exceeds 26214400 octets of message"),
    AllSuppressed: errorResponse("Every recipient is on the suppression list (all_suppressed), or the From: domain will not align for DMARC and the account requires it (dmarc_unaligned): nothing stored", "all_suppressed", "Every recipient is suppressed"),
    Unavailable: errorResponse("Not possible on this node now", "no_secret_key", "Webhooks need SMARTHOST_SECRET_KEY on this node"),
    Throttled: {
      ...errorResponse("Rate limit, quota, or too many authentication failures", "rate_limited", "Rate limit reached"),
      headers: { "Retry-After": { description: "Seconds to wait", schema: { type: "integer" } } },
    },
  },
};

const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });
const accepted = {
  description: "Accepted: committed to the queue; suppressed lists the recipients left out (on the suppression list)",
  content: { "application/json": { schema: schema(Accepted), example: { id: "01JD5W3Q2M8Z", status: "queued", suppressed: [] } } },
};
const alreadySent = errorResponse("Already sent (or being sent): nothing to change", "already_sent", "Nothing left to cancel: every recipient was already sent or canceled");
const submitErrors = { 400: ref("Invalid"), 401: ref("Unauthenticated"), 403: ref("Forbidden"), 413: ref("TooLarge"), 422: ref("AllSuppressed"), 429: ref("Throttled") };
const query = (name: string, description: string, extra: object = {}, example?: string) => ({ name, in: "query", required: false, description, schema: { type: "string", ...extra }, ...(example ? { example } : {}) });
const token = { name: "token", in: "path", required: true, description: "From the message's List-Unsubscribe field", schema: { type: "string" }, example: "MQphY2N0Cm1zZwpib2JAZXhhbXBsZS5vcmc.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" };
const idempotency = { name: "Idempotency-Key", in: "header", required: false, description: "Same key within 24 h: the first message's id, nothing sent twice", schema: { type: "string" }, example: "order-1234" };

/**
 * Plain objects: checked as a whole by the OpenAPI test rather than by openapi-types'
 * narrower schema types. Only the operations the app serves go in the document
 * (servedPaths): some routes are mounted only when configured.
 */
export const PATHS: Record<string, Record<string, object>> = {
  "/v1/messages": {
    post: {
      tags: ["messages"],
      summary: "Send a message composed from JSON",
      security: [{ apiKey: [] }],
      parameters: [idempotency],
      requestBody: {
        required: true,
        content: { "application/json": { schema: schema(MessageBody), example: { from: "alice@example.com", to: ["bob@example.org"], subject: "Hello", text: "Hi Bob" } } },
      },
      responses: { 202: accepted, ...submitErrors },
    },
    get: {
      tags: ["messages"],
      summary: "The account's messages, newest first, by status, recipient and time",
      security: [{ apiKey: [] }],
      parameters: [
        query("status", "only messages in this status", { enum: [...MESSAGE_STATUSES] }),
        query("recipient", "only messages to this address", {}, "bob@example.org"),
        query("since", "created at or after (RFC 3339)", { format: "date-time" }),
        query("until", "created before (RFC 3339)", { format: "date-time" }),
        query("limit", "at most this many (default 50, at most 100)"),
        query("cursor", "next_cursor from the previous page"),
      ],
      responses: { 200: { description: "One page", content: { "application/json": { schema: schema(MessagePage) } } }, 400: ref("Invalid"), 401: ref("Unauthenticated") },
    },
  },
  "/v1/messages/raw": {
    post: {
      tags: ["messages"],
      summary: "Send an RFC 5322 message as given (base64) with its envelope",
      security: [{ apiKey: [] }],
      parameters: [idempotency],
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: schema(RawBody),
            example: { mail_from: "alice@example.com", rcpt_to: ["bob@example.org"], raw: "RnJvbTogYWxpY2VAZXhhbXBsZS5jb20NClRvOiBib2JAZXhhbXBsZS5vcmcNClN1YmplY3Q6IEhpDQoNCkhlbGxvDQo=" },
          },
        },
      },
      responses: { 202: accepted, ...submitErrors },
    },
  },
  "/v1/messages/batch": {
    post: {
      tags: ["messages"],
      summary: `Send up to SMARTHOST_MAX_BATCH (default ${DEFAULT_MAX_BATCH}) messages composed from JSON, the accepted ones in one commit`,
      description:
        "Each item is POST /v1/messages's body plus an optional idempotency_key. Every message is checked and counted against the limits on its own: 200 whenever the batch was read, with each message's result in its place — {id, status, …} or {error: {code, message}} as the single route would have answered it.",
      security: [{ apiKey: [] }],
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: { type: "array", minItems: 1, maxItems: DEFAULT_MAX_BATCH, items: schema(BatchItem) },
            example: [
              { from: "alice@example.com", to: ["bob@example.org"], subject: "Hello", text: "Hi Bob", idempotency_key: "welcome-bob" },
              { from: "alice@example.com", to: ["carol@example.org"], subject: "Hello", text: "Hi Carol", send_at: "2030-01-01T09:00:00Z" },
            ],
          },
        },
      },
      responses: {
        200: { description: "One result per message, in order", content: { "application/json": { schema: schema(BatchResults), example: { data: [{ id: "01JD5W3Q2M8Z", status: "queued", suppressed: [] }, { error: { code: "invalid_send_at", message: "send_at: is in the past", field: "send_at" } }] } } } },
        400: ref("Invalid"),
        401: ref("Unauthenticated"),
        413: ref("TooLarge"),
      },
    },
  },
  "/v1/messages/{id}": {
    get: {
      tags: ["messages"],
      summary: "A message's status: per-recipient state, attempts, last upstream reply, events",
      security: [{ apiKey: [] }],
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" }, example: "01JD5W3Q2M8Z" }],
      responses: { 200: { description: "The message", content: { "application/json": { schema: { type: "object" } } } }, 401: ref("Unauthenticated"), 404: ref("NotFound") },
    },
    patch: {
      tags: ["messages"],
      summary: "A new send_at (RFC 3339, at most 30 days ahead) while nothing of the message was sent",
      security: [{ apiKey: [] }],
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" }, example: "01JD5W3Q2M8Z" }],
      requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["send_at"], additionalProperties: false, properties: { send_at: { type: "string", format: "date-time" } } }, example: { send_at: "2030-01-01T09:00:00Z" } } } },
      responses: { 200: { description: "The message, as GET shows it", content: { "application/json": { schema: { type: "object" } } } }, 400: ref("Invalid"), 401: ref("Unauthenticated"), 404: ref("NotFound"), 409: alreadySent },
    },
    delete: {
      tags: ["messages"],
      summary: "Cancel what is not sent yet: those recipients become canceled (one event each)",
      security: [{ apiKey: [] }],
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" }, example: "01JD5W3Q2M8Z" }],
      responses: { 200: { description: "The message, as GET shows it", content: { "application/json": { schema: { type: "object" } } } }, 401: ref("Unauthenticated"), 404: ref("NotFound"), 409: alreadySent },
    },
  },
  "/v1/domains/{domain}": {
    get: {
      tags: ["domains"],
      summary: "SPF, DKIM, DMARC and MTA-STS as published for a domain the account sends for, and the records still to publish",
      security: [{ apiKey: [] }],
      parameters: [{ name: "domain", in: "path", required: true, schema: { type: "string" }, example: "example.com" }],
      responses: { 200: { description: "The report", content: { "application/json": { schema: { type: "object", properties: { domain: { type: "string" }, ok: { type: "boolean" }, checks: { type: "array", items: { type: "object" } } } } } } }, 400: ref("Invalid"), 401: ref("Unauthenticated"), 403: ref("Forbidden") },
    },
  },
  // gateway/routes/unsubscribe.ts: public, the token is the credential (RFC 8058).
  "/u/{token}": {
    get: {
      tags: ["unsubscribe"],
      summary: "The page of a one-click unsubscribe link (List-Unsubscribe): changes nothing, its button POSTs",
      parameters: [token],
      responses: {
        200: { description: "A page with the unsubscribe button", content: { "text/html": { schema: { type: "string" } } } },
        404: { description: "Not a valid link", content: { "text/html": { schema: { type: "string" } } } },
      },
    },
    post: {
      tags: ["unsubscribe"],
      summary: "One-click unsubscribe (RFC 8058): the recipient is suppressed for the account, reason unsubscribe; a recipient.unsubscribed webhook",
      parameters: [token],
      requestBody: {
        required: true,
        content: {
          "application/x-www-form-urlencoded": { schema: { type: "object", required: ["List-Unsubscribe"], properties: { "List-Unsubscribe": { const: "One-Click" } } }, example: "List-Unsubscribe=One-Click" },
          "multipart/form-data": { schema: { type: "object", required: ["List-Unsubscribe"], properties: { "List-Unsubscribe": { const: "One-Click" } } } },
        },
      },
      responses: {
        200: { description: "Unsubscribed (also when it already was); never a redirect", content: { "application/json": { schema: { type: "object", properties: { status: { const: "unsubscribed" } } }, example: { status: "unsubscribed" } }, "text/html": { schema: { type: "string" } } } },
        400: errorResponse("The body is not List-Unsubscribe=One-Click", "invalid_unsubscribe", "The body must be List-Unsubscribe=One-Click (RFC 8058)"),
        404: errorResponse("Not a valid link", "not_found", "No such unsubscribe link"),
      },
    },
  },
  "/healthz": {
    get: {
      tags: ["service"],
      summary: "200 when the database answers",
      responses: {
        200: { description: "Up", content: { "application/json": { schema: { type: "object", properties: { status: { const: "ok" } } }, example: { status: "ok" } } } },
        503: { description: "The database does not answer", content: { "application/json": { schema: { type: "object", properties: { status: { const: "unavailable" } } } } } },
      },
    },
  },
  "/metrics": { get: { tags: ["service"], summary: "Prometheus text format", responses: { 200: { description: "Metrics", content: { "text/plain": { schema: { type: "string" } } } } } } },
  "/openapi.json": { get: { tags: ["service"], summary: "This document", responses: { 200: { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } } } },
  "/docs": { get: { tags: ["service"], summary: "A reference page for this document, served from this host", responses: { 200: { description: "HTML", content: { "text/html": { schema: { type: "string" } } } } } } },
};

/** The described operations the app actually serves (method and `{param}` path as in the document). */
export function servedPaths(routes: readonly { method: string; path: string }[]): Record<string, Record<string, object>> {
  const served = new Set(routes.map((r) => `${r.method.toLowerCase()} ${(r.path.replace(/\/$/, "") || "/").replace(/:(\w+)/g, "{$1}")}`));
  const out: Record<string, Record<string, object>> = {};
  for (const [path, item] of Object.entries(PATHS)) {
    for (const [method, op] of Object.entries(item)) {
      if (!served.has(`${method} ${path}`)) continue;
      out[path] ??= {};
      out[path][method] = op;
    }
  }
  return out;
}
