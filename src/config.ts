/**
 * All configuration, from the environment, validated once with one valibot schema.
 * A bad value stops start-up with a message naming the variable.
 */
import ipaddr from "ipaddr.js";
import * as v from "valibot";
import { secretKeyProblem } from "./secrets/cipher.ts";
import { parseTrustedProxies, type TrustedProxies } from "./util/client-address.ts";
import { Failure } from "./core/failure.ts";

const bool = (name: string) =>
  v.pipe(
    v.optional(v.string(), "false"),
    v.picklist(["true", "false", "1", "0", "yes", "no"], `${name} must be true or false`),
    v.transform((s) => s === "true" || s === "1" || s === "yes"),
  );

/** Messages in one POST /v1/messages/batch unless SMARTHOST_MAX_BATCH says otherwise. */
export const DEFAULT_MAX_BATCH = 100;

const int = (name: string, def: number, min: number, max: number) =>
  v.pipe(
    v.optional(v.string(), String(def)),
    v.regex(/^\d+$/, `${name} must be a whole number`),
    v.transform(Number),
    v.minValue(min, `${name} must be at least ${min}`),
    v.maxValue(max, `${name} must be at most ${max}`),
  );

export interface ListenAddress {
  host: string;
  port: number;
}

/** "host:port" or "[v6]:port"; port 0 means any free port. */
export function parseListen(s: string): ListenAddress | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: (m[1] ?? m[2])!, port };
}

const listenList = (name: string, def: string) =>
  v.pipe(
    v.optional(v.string(), def),
    v.transform((s) => s.split(",").map((x) => x.trim()).filter((x) => x.length > 0)),
    v.check((list) => list.every((x) => parseListen(x) !== null), `${name} must be host:port[,host:port…]`),
    v.transform((list) => list.map((x) => parseListen(x)!)),
  );

const optionalString = v.pipe(
  v.optional(v.string()),
  v.transform((s) => (s === undefined || s === "" ? undefined : s)),
);

const dbUrl = v.pipe(
  v.optional(v.string(), "file:./data/smarthost.db"),
  v.regex(/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/, "SMARTHOST_DB_URL must start with file:, libsql://, http(s):// or ws(s)://"),
);

const upstream = v.pipe(
  v.optional(v.string(), "mx"),
  v.regex(/^(mx|smtps?:\/\/.+)$/, "SMARTHOST_UPSTREAM must be mx, smtp://host:port or smtps://host:port"),
);

const hostname = v.pipe(
  v.optional(v.string(), ""),
  v.regex(/^[A-Za-z0-9.-]*$/, "SMARTHOST_HOSTNAME must be a host name"),
);

const hostPortList = (name: string) =>
  v.pipe(
    v.optional(v.string(), ""),
    v.transform((s) => s.split(",").map((x) => x.trim()).filter((x) => x.length > 0)),
    v.check((list) => list.every((x) => parseListen(x) !== null || /^[0-9a-fA-F:.]+$/.test(x)), `${name} must be a list of host[:port]`),
  );

// Never echoed in the message: a near-miss of the key is still most of the key.
const secretKey = v.pipe(
  optionalString,
  v.check(
    (s) => s === undefined || secretKeyProblem(s) === null,
    (issue) => (typeof issue.input === "string" && secretKeyProblem(issue.input)) || "SMARTHOST_SECRET_KEY must be 32 bytes, base64",
  ),
);

// The ingress → gateway link carries SMTP passwords: TLS unless both ends share the machine.
const isLoopbackHost = (host: string): boolean => {
  const h = host.replace(/^\[|\]$/g, "");
  if (h === "localhost") return true;
  return ipaddr.isValid(h) && ipaddr.process(h).range() === "loopback";
};

const gatewayUrl = v.pipe(
  optionalString,
  v.check((s) => {
    if (s === undefined) return true;
    try {
      const u = new URL(s);
      return !u.username && !u.password && (u.protocol === "https:" || (u.protocol === "http:" && isLoopbackHost(u.hostname)));
    } catch {
      return false;
    }
  }, "SMARTHOST_GATEWAY_URL must be an https:// URL without credentials (http:// only to a loopback address)"),
);

// Links in mail (one-click unsubscribe) point here: https://, or http:// to a loopback host (tests).
const publicUrl = v.pipe(
  optionalString,
  v.check((s) => {
    if (s === undefined) return true;
    try {
      const u = new URL(s);
      return !u.username && !u.password && !u.search && !u.hash && (u.protocol === "https:" || (u.protocol === "http:" && isLoopbackHost(u.hostname)));
    } catch {
      return false;
    }
  }, "SMARTHOST_PUBLIC_URL must be an https:// base URL without credentials, query or fragment (http:// only for a loopback host)"),
  v.transform((s) => s?.replace(/\/+$/, "")),
);

// The link's signing keys come from it: as strong as a 256-bit key, at least.
const MIN_GATEWAY_TOKEN_BYTES = 32;
const gatewayToken = v.pipe(
  optionalString,
  v.check(
    (s) => s === undefined || new TextEncoder().encode(s).length >= MIN_GATEWAY_TOKEN_BYTES,
    `SMARTHOST_GATEWAY_TOKEN must be at least ${MIN_GATEWAY_TOKEN_BYTES} bytes (e.g. openssl rand -base64 32)`,
  ),
);

// Peers whose X-Forwarded-For names the client (src/policy/client-address.ts); none by default.
const trustedProxies = v.pipe(
  v.optional(v.string(), ""),
  v.check(
    (s) => parseTrustedProxies(s).ok,
    (issue) => {
      const parsed = typeof issue.input === "string" ? parseTrustedProxies(issue.input) : null;
      const bad = parsed && !parsed.ok ? `"${parsed.bad}" is not` : "must be";
      return `SMARTHOST_TRUSTED_PROXIES: ${bad} a comma-separated list of CIDRs (10.0.0.0/8, 2001:db8::/32) or addresses`;
    },
  ),
  v.transform((s): TrustedProxies => {
    const parsed = parseTrustedProxies(s);
    return parsed.ok ? parsed.proxies : [];
  }),
);

export const ConfigSchema = v.object({
  SMARTHOST_DB_URL: dbUrl,
  SMARTHOST_DB_AUTH_TOKEN: optionalString,
  SMARTHOST_SMTP_LISTEN: listenList("SMARTHOST_SMTP_LISTEN", "127.0.0.1:2525"),
  SMARTHOST_SMTPS_LISTEN: listenList("SMARTHOST_SMTPS_LISTEN", "127.0.0.1:2465"),
  SMARTHOST_HTTP_LISTEN: listenList("SMARTHOST_HTTP_LISTEN", "127.0.0.1:8787"),
  // Bounces (DSNs to return-path tokens) and feedback reports come back here (src/inbound/); empty: none.
  SMARTHOST_INBOUND_LISTEN: listenList("SMARTHOST_INBOUND_LISTEN", ""),
  SMARTHOST_COMPLAINT_ADDRESS: v.pipe(optionalString, v.check((s) => s === undefined || /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(s), "SMARTHOST_COMPLAINT_ADDRESS must be an address"), v.transform((s) => s?.toLowerCase())),
  SMARTHOST_HOSTNAME: hostname,
  SMARTHOST_TLS_CERT: optionalString,
  SMARTHOST_TLS_KEY: optionalString,
  SMARTHOST_DATA_DIR: v.optional(v.string(), "./data"),
  SMARTHOST_SECRET_KEY: secretKey,
  SMARTHOST_ALLOW_INSECURE_AUTH: bool("SMARTHOST_ALLOW_INSECURE_AUTH"),
  SMARTHOST_MAX_MESSAGE_BYTES: int("SMARTHOST_MAX_MESSAGE_BYTES", 26214400, 1024, 2 ** 31),
  SMARTHOST_MAX_RECIPIENTS: int("SMARTHOST_MAX_RECIPIENTS", 100, 1, 100000),
  // Messages in one POST /v1/messages/batch (the whole request within the HTTP body limit).
  SMARTHOST_MAX_BATCH: int("SMARTHOST_MAX_BATCH", DEFAULT_MAX_BATCH, 1, 10000),
  SMARTHOST_MAX_ERRORS: int("SMARTHOST_MAX_ERRORS", 10, 1, 1000),
  SMARTHOST_SMTP_IDLE_TIMEOUT_SECONDS: int("SMARTHOST_SMTP_IDLE_TIMEOUT_SECONDS", 300, 1, 3600),
  SMARTHOST_SMTP_COMMAND_DEADLINE_SECONDS: int("SMARTHOST_SMTP_COMMAND_DEADLINE_SECONDS", 60, 1, 3600),
  SMARTHOST_SMTP_MIN_DATA_RATE: int("SMARTHOST_SMTP_MIN_DATA_RATE", 500, 0, 1_000_000_000),
  SMARTHOST_GREET_DELAY_MS: int("SMARTHOST_GREET_DELAY_MS", 0, 0, 60000),
  SMARTHOST_MAX_CONNECTIONS: int("SMARTHOST_MAX_CONNECTIONS", 20000, 1, 1000000),
  SMARTHOST_MAX_CONNECTIONS_PER_IP: int("SMARTHOST_MAX_CONNECTIONS_PER_IP", 100, 1, 1000000),
  SMARTHOST_UPSTREAM: upstream,
  SMARTHOST_DNS_SERVERS: hostPortList("SMARTHOST_DNS_SERVERS"),
  SMARTHOST_GATEWAY_URL: gatewayUrl,
  SMARTHOST_PUBLIC_URL: publicUrl,
  SMARTHOST_GATEWAY_TOKEN: gatewayToken,
  SMARTHOST_METRICS_TOKEN: optionalString,
  SMARTHOST_TRUSTED_PROXIES: trustedProxies,
  SMARTHOST_ADMIN_TOKEN: v.pipe(optionalString, v.check((s) => s === undefined || s.length >= 32, "SMARTHOST_ADMIN_TOKEN must be at least 32 characters")),
  SMARTHOST_RETRY_BASE_SECONDS: int("SMARTHOST_RETRY_BASE_SECONDS", 300, 1, 86400),
  SMARTHOST_QUEUE_LIFETIME_SECONDS: int("SMARTHOST_QUEUE_LIFETIME_SECONDS", 432000, 1, 31536000),
  SMARTHOST_ALLOW_PRIVATE_MX: bool("SMARTHOST_ALLOW_PRIVATE_MX"),
  SMARTHOST_MX_PORT: int("SMARTHOST_MX_PORT", 25, 1, 65535),
  SMARTHOST_UPSTREAM_CA_FILE: optionalString,
  SMARTHOST_DELIVERY: v.pipe(v.optional(v.string(), "true"), v.picklist(["true", "false"], "SMARTHOST_DELIVERY must be true or false"), v.transform((s) => s === "true")),
  SMARTHOST_DELIVERY_CONCURRENCY: int("SMARTHOST_DELIVERY_CONCURRENCY", 50, 1, 10000),
  SMARTHOST_DELIVERY_PER_DESTINATION: int("SMARTHOST_DELIVERY_PER_DESTINATION", 10, 1, 10000),
  SMARTHOST_DELIVERY_LEASE_SECONDS: int("SMARTHOST_DELIVERY_LEASE_SECONDS", 600, 1, 86400),
  // Messages an account with --over-limit hold may have held at once (per account: --hold-backlog).
  SMARTHOST_HOLD_BACKLOG: int("SMARTHOST_HOLD_BACKLOG", 10000, 1, 1_000_000_000),
  SMARTHOST_RETENTION_SECONDS: int("SMARTHOST_RETENTION_SECONDS", 604800, 0, 315360000),
  SMARTHOST_DELIVERY_POLL_MS: int("SMARTHOST_DELIVERY_POLL_MS", 1000, 10, 600000),
  // 32 bytes, base64: seals DKIM private keys (and other secrets) at rest.
  // Where MX delivery leaves from: what `domain check` expects SPF to authorize.
  SMARTHOST_SENDING_IPS: v.pipe(
    v.optional(v.string(), ""),
    v.transform((s) => s.split(",").map((x) => x.trim()).filter((x) => x.length > 0)),
    v.check((list) => list.every((x) => /^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F:]+:[0-9a-fA-F:.]*$/.test(x)), "SMARTHOST_SENDING_IPS must be a list of IP addresses"),
  ),
  // RFC 8461 on direct MX delivery: `enforce` honours published policies, `off` ignores them.
  SMARTHOST_MTA_STS: v.optional(v.picklist(["enforce", "off"], "SMARTHOST_MTA_STS must be enforce or off"), "enforce"),
  // RFC 7672 on direct MX delivery: `on` authenticates MX hosts by DNSSEC-validated TLSA records.
  SMARTHOST_DANE: v.optional(v.picklist(["on", "off"], "SMARTHOST_DANE must be on or off"), "off"),
  // RFC 8460 daily TLS reports to recipient domains that ask (src/tlsrpt/): unset, on when
  // SMARTHOST_HOSTNAME is a public name (src/tlsrpt/settings.ts).
  SMARTHOST_TLSRPT: v.optional(v.picklist(["on", "off"], "SMARTHOST_TLSRPT must be on or off")),
  SMARTHOST_TLSRPT_ORG: optionalString,
  SMARTHOST_TLSRPT_CONTACT: v.pipe(optionalString, v.check((s) => s === undefined || /^[^\s@<>]+@[^\s@<>]+$/.test(s), "SMARTHOST_TLSRPT_CONTACT must be an address")),
  SMARTHOST_ALLOW_PRIVATE_WEBHOOKS: bool("SMARTHOST_ALLOW_PRIVATE_WEBHOOKS"),
  SMARTHOST_WEBHOOK_RETRY_SECONDS: v.pipe(
    v.optional(v.string(), "5,300,1800,7200,18000,36000,50400,72000,86400"),
    v.regex(/^\d{1,6}(,\d{1,6}){0,29}$/, "SMARTHOST_WEBHOOK_RETRY_SECONDS must be a comma-separated list of whole seconds"),
    v.transform((s) => s.split(",").map(Number)),
  ),
  SMARTHOST_LOG: v.optional(v.picklist(["info", "silent"], "SMARTHOST_LOG must be info or silent"), "info"),
});

export type Config = v.InferOutput<typeof ConfigSchema>;

/**
 * The name in the greeting, EHLO and Received headers: SMARTHOST_HOSTNAME, else the
 * machine's name where the runtime has one (not on Workers), else "localhost".
 */
export function relayHostname(config: Pick<Config, "SMARTHOST_HOSTNAME">, machineName?: string): string {
  return config.SMARTHOST_HOSTNAME || machineName || "localhost";
}

/**
 * Where there is no machine name (Workers): without SMARTHOST_HOSTNAME, the name the relay
 * is reached at (a workers.dev or custom domain: fully qualified) names it in EHLO, Received
 * and Message-ID. An address or a single label (local development) is no name for EHLO:
 * "localhost" then.
 */
export function hostnameFromUrl(config: Pick<Config, "SMARTHOST_HOSTNAME">, url: string): string {
  const host = new URL(url).hostname;
  const fqdn = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(host) && /[a-z]/i.test(host.split(".").at(-1)!);
  return relayHostname(config, fqdn ? host : undefined);
}

/**
 * The largest HTTP request body the API reads for a message of SMARTHOST_MAX_MESSAGE_BYTES:
 * base64 makes 4/3 of the bytes (line breaks and JSON escapes a little more), plus room
 * for the other JSON fields.
 */
export function httpBodyLimit(maxMessageBytes: number): number {
  return Math.ceil(maxMessageBytes * 1.4) + 64 * 1024;
}


/** Parses the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const known: Record<string, string | undefined> = {};
  for (const key of Object.keys(ConfigSchema.entries)) known[key] = env[key];
  const result = v.safeParse(ConfigSchema, known);
  if (result.success) {
    const out = result.output;
    if (out.SMARTHOST_GATEWAY_URL && !out.SMARTHOST_GATEWAY_TOKEN) {
      throw new Failure("config", "SMARTHOST_GATEWAY_TOKEN is required with SMARTHOST_GATEWAY_URL");
    }
    if (!!out.SMARTHOST_TLS_CERT !== !!out.SMARTHOST_TLS_KEY) {
      throw new Failure("config", "SMARTHOST_TLS_CERT and SMARTHOST_TLS_KEY must be set together");
    }
    // The AD bit is trusted only from a resolver the operator named (as Postfix does).
    if (out.SMARTHOST_DANE === "on" && out.SMARTHOST_DNS_SERVERS.length === 0) {
      throw new Failure("config", "SMARTHOST_DANE=on needs SMARTHOST_DNS_SERVERS: a DNSSEC-validating resolver you trust (e.g. unbound on 127.0.0.1:53)");
    }
    return out;
  }
  const lines = result.issues.map((issue) => {
    const key = issue.path?.[0]?.key;
    const msg = issue.message;
    return typeof key === "string" && !msg.includes(key) ? `${key}: ${msg}` : msg;
  });
  throw new Failure("config", `invalid configuration:\n  ${lines.join("\n  ")}`);
}
