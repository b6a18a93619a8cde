/**
 * The admin API's request and response bodies (valibot): the routes validate with these,
 * and /openapi.json is generated from them, so the two cannot drift.
 */
import * as v from "valibot";
import { PENDING_STATES } from "../../admin/queue-select.ts";
import { fieldIssue } from "../schemas.ts";

const str = (what: string, max = 255) => v.pipe(v.string(`${what} must be a string`), v.minLength(1, `${what} must not be empty`), v.maxLength(max, `${what} is too long`));
const limit = (what: string) => v.pipe(v.number(`${what} must be a number`), v.integer(`${what} must be a whole number`), v.minValue(1, `${what} must be at least 1`));
const strict = <T extends v.ObjectEntries>(entries: T) => v.strictObject(entries, fieldIssue);
const iso = v.pipe(v.string(), v.isoTimestamp());
const nullableIso = v.nullable(iso);

export const ErrorBody = v.object({
  error: v.object({ code: v.string(), message: v.string(), field: v.optional(v.string()) }),
});

// Requests.
export const NewAccount = strict({ name: str("name", 64), per_minute: v.optional(limit("per_minute")), per_day: v.optional(limit("per_day")), recipients_per_day: v.optional(limit("recipients_per_day")) });
export const AccountChange = strict({ per_minute: v.optional(v.nullable(limit("per_minute"))), per_day: v.optional(v.nullable(limit("per_day"))), recipients_per_day: v.optional(v.nullable(limit("recipients_per_day"))), list_unsubscribe: v.optional(v.picklist(["one-click", "off"], "list_unsubscribe must be one-click or off")), require_alignment: v.optional(v.boolean("require_alignment must be true or false")) });
export const NewCredential = strict({ account: str("account"), username: str("username"), password: v.optional(v.pipe(v.string("password must be a string"), v.minLength(8, "password must be at least 8 characters"))) });
export const Rotation = strict({ password: v.optional(v.pipe(v.string("password must be a string"), v.minLength(8, "password must be at least 8 characters"))) });
export const NewKey = strict({ account: str("account") });
export const SenderRule = strict({ account: str("account"), pattern: str("pattern") });
export const Network = strict({ account: str("account"), cidr: str("cidr", 64) });
export const NewRoute = strict({ domain: str("domain"), url: str("url", 2048) });
export const RouteRef = strict({ domain: str("domain"), url: str("url", 2048) });
export const AccountFilter = v.object({ account: v.optional(str("account")) });
export const RemoveQuery = v.object({ force: v.optional(v.picklist(["true", "false"], "force must be true or false")) });
const filterEntries = {
  state: v.optional(v.picklist(PENDING_STATES, `state must be one of ${PENDING_STATES.join(", ")}`)),
  account: v.optional(str("account")),
  domain: v.optional(str("domain")),
};
export const QueueQuery = v.object({
  ...filterEntries,
  limit: v.optional(v.pipe(v.string(), v.regex(/^\d{1,5}$/, "limit must be a whole number from 1 to 10000"), v.transform(Number), v.minValue(1, "limit must be at least 1"), v.maxValue(10_000, "limit must be at most 10000")), "1000"),
});
export const NewDkimKey = strict({
  domain: str("domain"),
  selector: v.optional(str("selector", 63)),
  algorithm: v.optional(v.picklist(["rsa", "ed25519", "both"], "algorithm must be rsa, ed25519 or both"), "rsa"),
});
export const DkimRotation = strict({ selector: v.optional(str("selector", 63)), activate: v.optional(v.boolean("activate must be true or false")) });
export const SuppressionRef = strict({ account: str("account"), address: str("address", 320) });
export const NewWebhook = strict({
  account: str("account"),
  url: str("url", 2048),
  events: v.optional(v.pipe(v.array(v.string("events must be event type names")), v.maxLength(20, "at most 20 event types"))),
});
/** One message's action; `bounce` goes with delete only. */
export const MessageAction = strict({ bounce: v.optional(v.boolean("bounce must be true or false")) });
/** `queue reschedule`: RFC 3339, at most 30 days ahead (queue/schedule.ts). */
export const Reschedule = strict({ send_at: v.string("send_at must be an RFC 3339 date-time string") });
/** A bulk action: the count alone unless `yes`. */
export const BulkAction = strict({ ...filterEntries, all: v.optional(v.boolean("all must be true or false")), yes: v.optional(v.boolean("yes must be true or false")), bounce: v.optional(v.boolean("bounce must be true or false")) });

// Responses.
export const AccountRow = v.object({ name: v.string(), per_minute: v.nullable(v.number()), per_day: v.nullable(v.number()), recipients_per_day: v.nullable(v.number()), list_unsubscribe: v.optional(v.picklist(["one-click", "off"])), require_alignment: v.boolean(), created_at: iso });
const usage = v.object({ used: v.number(), limit: v.nullable(v.number()) });
export const AccountDetail = v.object({
  name: v.string(),
  created_at: iso,
  /** Mail that will not align for DMARC: refused (true) or accepted with a warning. */
  require_alignment: v.boolean(),
  usage: v.object({ per_minute: usage, per_day: usage }),
  // Still to deliver: messages and recipients, and the recipients by state.
  queued: v.object({ messages: v.number(), recipients: v.number(), queued: v.number(), deferred: v.number(), held: v.number() }),
  credentials: v.array(v.string()),
  api_keys: v.array(v.string()),
  senders: v.array(v.string()),
  networks: v.array(v.string()),
});
export const AccountRemoved = v.object({ name: v.string(), credentials: v.number(), api_keys: v.number(), senders: v.number(), networks: v.number(), dropped_recipients: v.number() });
export const CredentialRow = v.object({ username: v.string(), account: v.string(), created_at: iso });
/** `password` only when the relay generated it: shown this once. */
export const CredentialSecret = v.object({ username: v.string(), password: v.optional(v.string()) });
export const KeyRow = v.object({ id: v.string(), account: v.string(), created_at: iso, last_used_at: nullableIso, revoked_at: nullableIso });
export const KeyCreated = v.object({ id: v.string(), account: v.string(), key: v.string() });
export const SenderRow = v.object({ account: v.string(), pattern: v.string() });
export const NetworkRow = v.object({ account: v.string(), cidr: v.string() });
export const RouteRow = v.object({ domain: v.string(), position: v.number(), url: v.string() });
export const RouteRemoved = v.object({ ...RouteRow.entries, queued: v.number(), now_via: v.string() });
export const QueueRow = v.object({
  id: v.string(),
  account: v.nullable(v.string()),
  mail_from: v.string(),
  recipient: v.string(),
  state: v.string(),
  attempts: v.number(),
  next_attempt_at: iso,
  last_reply: v.nullable(v.string()),
});
/** An attempt's TLS outcome (delivery/tls-outcome.ts); null when no session got that far. */
const TlsOutcome = v.nullable(
  v.object({
    outcome: v.picklist(["none", "opportunistic", "verified"]),
    protocol: v.nullable(v.string()),
    cipher: v.nullable(v.string()),
    result_type: v.nullable(v.string()),
    policy: v.nullable(v.picklist(["enforce", "testing"])),
  }),
);
export const MessageTrace = v.object({
  id: v.string(),
  account: v.nullable(v.string()),
  source: v.string(),
  mail_from: v.string(),
  size: v.number(),
  envid: v.nullable(v.string()),
  ret: v.nullable(v.string()),
  smtputf8: v.boolean(),
  created_at: iso,
  send_at: nullableIso,
  recipients: v.array(v.object({ address: v.string(), state: v.string(), attempts: v.number(), next_attempt_at: nullableIso, last_reply: v.nullable(v.string()), notify: v.nullable(v.string()), tls: TlsOutcome })),
  events: v.array(v.object({ type: v.string(), recipient: v.nullable(v.string()), detail: v.nullable(v.string()), tls: TlsOutcome, at: iso })),
});
export const ActionResult = v.object({
  action: v.picklist(["retry", "hold", "release", "delete"]),
  messages: v.number(),
  recipients: v.number(),
  in_delivery: v.number(),
  dsns: v.number(),
});
export const BulkCount = v.object({ acted: v.literal(false), messages: v.number(), recipients: v.number() });
/** A signing key as listed: never its private half; `record` is the zone-file line to publish. */
export const DkimKey = v.object({
  domain: v.string(),
  selector: v.string(),
  algorithm: v.picklist(["rsa", "ed25519"]),
  state: v.picklist(["pending", "active", "retired"]),
  created_at: iso,
  activated_at: nullableIso,
  retired_at: nullableIso,
  record: v.string(),
});
export const DkimRemoved = v.object({ domain: v.string(), selector: v.string() });
export const SuppressionRow = v.object({
  account: v.string(),
  address: v.string(),
  reason: v.picklist(["bounce", "complaint", "manual", "unsubscribe"]),
  message_id: v.nullable(v.string()),
  created_at: iso,
  expires_at: nullableIso,
});
export const SuppressionDone = v.object({ account: v.string(), address: v.string() });
/** Never the secret. */
export const WebhookRow = v.object({
  id: v.string(),
  account: v.string(),
  url: v.string(),
  events: v.nullable(v.array(v.string())),
  enabled: v.boolean(),
  disabled_reason: v.nullable(v.string()),
  previous_secret_valid_until: nullableIso,
  created_at: iso,
});
/** The whsec_ secret, shown this once. */
export const WebhookSecretShown = v.object({ id: v.string(), secret: v.string() });
export const WebhookRemoved = v.object({ id: v.string() });
export const DomainReport = v.object({
  domain: v.string(),
  ok: v.boolean(),
  checks: v.array(
    v.object({
      check: v.picklist(["spf", "dkim", "dmarc", "mta-sts", "tls-rpt", "dane", "return-path", "bulk"]),
      ok: v.boolean(),
      found: v.nullable(v.string()),
      detail: v.string(),
      publish: v.optional(v.string()),
      selector: v.optional(v.string()),
    }),
  ),
});
