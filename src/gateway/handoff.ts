/**
 * The wire form of the ingress → gateway handoff for ingress-only nodes: each
 * SubmissionHandler call as one signed HTTP request (link-auth.ts). A message travels as
 * one body: a JSON line (session, envelope, proposed id) then the raw octets, so nothing
 * is re-encoded.
 *
 * Neither end believes the other's JSON: the gateway checks every request body, the
 * ingress every reply, against the schemas below. Addresses are parsed again by the
 * gateway (a CR or a space smuggled into a stored address would reach the MX dialog), and
 * reply lines may not carry line breaks (they are written to the client as they are).
 */
import * as v from "valibot";
import { parseMailbox } from "../smtp/address.ts";

export const HANDOFF_PATH = "/internal/smtp";
export const HANDOFF_CONTENT_TYPE = "application/vnd.smarthost.message";
export const HANDOFF_STEPS = ["identify", "auth", "sender", "recipient", "accept"] as const;
export type HandoffStep = (typeof HANDOFF_STEPS)[number];

export function encodeMessageBody(meta: unknown, raw: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(`${JSON.stringify(meta)}\n`);
  const out = new Uint8Array(head.length + raw.length);
  out.set(head, 0);
  out.set(raw, head.length);
  return out;
}

export function decodeMessageBody(body: Uint8Array): { meta: unknown; raw: Uint8Array } | null {
  const lf = body.indexOf(10);
  if (lf < 0) return null;
  try {
    return { meta: JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body.subarray(0, lf))), raw: body.subarray(lf + 1) };
  } catch {
    return null;
  }
}

// Printable text without line breaks or NUL, bounded.
const text = (max: number) => v.pipe(v.string(), v.maxLength(max), v.check((s) => !/[\0\r\n]/.test(s), "must not contain line breaks"));
const port = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535));
// RFC 3461 §4: xtext (ENVID, ORCPT, AUTH=).
const XTEXT = /^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$/;
const xtext = (max: number) => v.pipe(v.string(), v.maxLength(max), v.regex(XTEXT));

/** A mailbox as the gateway itself parses it (RFC 5321 §4.1.2); the sender's parts are not believed. */
const MailboxSchema = v.pipe(
  v.object({ address: v.pipe(v.string(), v.maxLength(512)) }),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const m = parseMailbox(dataset.value.address, true);
    if (m === null || m === "utf8") {
      addIssue({ message: "not a valid mailbox" });
      return NEVER;
    }
    return m;
  }),
);

const PrincipalClaim = v.object({ username: text(512), accountId: text(128), grant: v.optional(v.pipe(v.string(), v.maxLength(4096))) });

const SessionSchema = v.object({
  sessionId: v.pipe(v.string(), v.regex(/^[\w.-]{1,64}$/)),
  // An IP address, IPv6 possibly with a zone (fe80::1%eth0).
  remoteAddress: v.pipe(v.string(), v.maxLength(64), v.regex(/^[0-9A-Fa-f:.]{2,}(?:%[\w.-]+)?$/)),
  remotePort: port,
  localPort: port,
  tls: v.nullable(v.object({ protocol: text(64), cipher: text(256) })),
  helo: v.nullable(text(512)),
  esmtp: v.boolean(),
  principal: v.nullable(PrincipalClaim),
  authenticated: v.boolean(),
});

const MailParamsSchema = v.object({
  size: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  body: v.optional(v.picklist(["7BIT", "8BITMIME"])),
  smtputf8: v.boolean(),
  ret: v.optional(v.picklist(["FULL", "HDRS"])),
  envid: v.optional(xtext(100)),
  auth: v.optional(xtext(512)),
});

const RcptParamsSchema = v.object({
  notify: v.optional(v.pipe(v.array(v.picklist(["NEVER", "SUCCESS", "FAILURE", "DELAY"])), v.minLength(1), v.maxLength(4))),
  orcpt: v.optional(v.pipe(xtext(600), v.regex(/^[A-Za-z0-9-]+;/))),
});

const EnvelopeSchema = v.object({
  from: v.nullable(MailboxSchema),
  params: MailParamsSchema,
  recipients: v.pipe(v.array(v.object({ mailbox: MailboxSchema, params: RcptParamsSchema })), v.maxLength(100_000)),
});

/** What each step's request body must be. */
export const StepBodies = {
  identify: v.object({ session: SessionSchema }),
  auth: v.object({
    session: SessionSchema,
    // As long as the ingress lets an AUTH line be (12 288 octets of base64).
    credentials: v.object({ mechanism: v.picklist(["PLAIN", "LOGIN"]), authzid: text(9216), username: text(9216), password: v.pipe(v.string(), v.maxLength(9216)) }),
  }),
  sender: v.object({ session: SessionSchema, from: v.nullable(MailboxSchema), params: MailParamsSchema }),
  recipient: v.object({ session: SessionSchema, envelope: EnvelopeSchema, to: MailboxSchema, params: RcptParamsSchema }),
  accept: v.object({ session: SessionSchema, envelope: EnvelopeSchema, id: v.pipe(v.string(), v.regex(/^[\w.-]{1,64}$/)) }),
} satisfies Record<HandoffStep, v.GenericSchema>;

// ——— replies (checked by the ingress) ———

// RFC 5321 §4.2: three digits; a line the client sees must stay one line.
const ReplySchema = v.object({
  code: v.pipe(v.number(), v.integer(), v.minValue(200), v.maxValue(599)),
  enhanced: v.optional(v.pipe(v.string(), v.regex(/^[245]\.\d{1,3}\.\d{1,3}$/))),
  lines: v.pipe(v.array(text(510)), v.minLength(1), v.maxLength(32)),
});
/** A refusal must be one: a 2xx here would read as acceptance to the client. */
const Refusal = v.pipe(ReplySchema, v.check((r) => r.code >= 400, "a refusal needs a 4xx or 5xx code"));

const IssuedPrincipal = v.object({ username: text(512), accountId: text(128), grant: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)) });
const renewal = { grant: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(4096))) };

export const StepReplies = {
  identify: v.object({ principal: v.nullable(IssuedPrincipal) }),
  auth: v.variant("ok", [v.object({ ok: v.literal(true), principal: IssuedPrincipal }), v.object({ ok: v.literal(false), reply: Refusal })]),
  sender: v.object({ reply: v.nullable(Refusal), ...renewal }),
  recipient: v.object({ reply: v.nullable(Refusal), ...renewal }),
  accept: v.variant("ok", [
    v.object({ ok: v.literal(true), id: v.pipe(v.string(), v.regex(/^[\w.-]{1,64}$/)), ...renewal }),
    v.object({ ok: v.literal(false), reply: Refusal, ...renewal }),
  ]),
} satisfies Record<HandoffStep, v.GenericSchema>;

export type StepBody<S extends HandoffStep> = v.InferOutput<(typeof StepBodies)[S]>;
export type StepReply<S extends HandoffStep> = v.InferOutput<(typeof StepReplies)[S]>;
