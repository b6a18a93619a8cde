/**
 * The webhook sender: next to the delivery worker, it leases due delivery rows, signs
 * and POSTs each (Standard Webhooks), and records every attempt. A loop on Bun; one pass
 * per invocation on Workers (`drainOnce`). Runtime-neutral: WebCrypto, and the network as
 * an injected port (`WebhookNetwork`: a resolver and a POST pinned to what it answered).
 */
import type { Sql } from "../db/raw.ts";
import type { GroupCommit } from "../db/group-commit.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import type { Logger } from "../core/log.ts";
import { eventPayload } from "../events/payload.ts";
import { purgeOldEvents } from "../events/retention.ts";
import { errorFields } from "../core/log.ts";
import { anyDue, leaseDuePlan, leasedDetails, recordAttemptPlan, type AttemptResult, type DueDelivery } from "./deliveries.ts";
import { ALLOW_PRIVATE_WEBHOOKS, checkDestination, type ResolveHost } from "./destination.ts";
import { secretPurpose } from "./endpoints.ts";
import { DEFAULT_RETRY_SECONDS, nextAttemptAt, retryAfterMs } from "./schedule.ts";
import { signatureHeader } from "./sign.ts";
import { PollLoop, type PassResult } from "../util/poll-loop.ts";

export interface WebhookSenderConfig {
  allowPrivate: boolean;
  retrySeconds?: readonly number[];
  pollMs: number;
  /** Standard Webhooks: receivers answer within 15 s or the attempt counts as failed. */
  timeoutMs?: number;
  /** Sends at once. */
  concurrency?: number;
  /** How long events and the webhook log are kept (0 keeps them). */
  retentionMs?: number;
}

export interface WebhookSenderDeps {
  /** For the look before leasing: most passes find nothing due and need no write transaction. */
  sql: Sql;
  writer: GroupCommit;
  secrets: SecretBox;
  config: WebhookSenderConfig;
  log: Logger;
  /** Bun and Node (src/runtime/node-webhook-post.ts). */
  network?: WebhookNetwork;
  /**
   * Without `network` (Workers): the platform's fetch, which resolves the name itself and
   * cannot be told an address, so only an IP literal in the URL is checked here. Workers'
   * fetch does not reach private or loopback addresses, so a name rebound to one gets nowhere.
   */
  fetch?: FetchLike;
  now?: () => number;
  /** Each attempt's outcome, for this node's /metrics (src/gateway/metrics.ts). */
  count?: (outcome: WebhookAttemptOutcome) => void;
}

/** What became of an attempt: a refused destination was never contacted. */
export type WebhookAttemptOutcome = "delivered" | "retried" | "failed" | "gone" | "refused";

/**
 * Why an attempt went as it did, for the operator's log line: the HTTP status, a timeout,
 * a DNS failure, a refused destination, a connection error. `fix` names the setting that
 * would let it through, when one would.
 */
interface Why {
  reason: string;
  refused?: boolean;
  fix?: string;
}

export interface WebhookInit {
  method: "POST";
  headers: Record<string, string>;
  /** JSON for webhooks; bytes for other POSTs (gzip'd TLS reports). */
  body: string | Uint8Array;
  redirect: "manual";
  signal: AbortSignal;
}

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/**
 * POSTs to `url` over a connection to one of `addresses` (the ones just checked), never to
 * what a new lookup of the name would answer (DNS rebinding); TLS is still verified for the
 * URL's host name.
 */
export type PinnedPost = (url: string, init: WebhookInit, addresses: readonly string[]) => Promise<Response>;

export interface WebhookNetwork {
  resolveHost: ResolveHost;
  post: PinnedPost;
}

/** What a failed request is called in the attempt a tenant reads: its code, never a message naming the address it reached. */
function requestErrorText(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code) return `error: ${code}`;
  return `error: ${err instanceof Error ? err.name : "request failed"}`;
}

const RESPONSE_PREFIX_BYTES = 256;
const PURGE_EVERY_MS = 60_000;

/** The first bytes of an answer, without reading a large one to its end. */
async function responsePrefix(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    while (n < RESPONSE_PREFIX_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      n += value.byteLength;
    }
  } finally {
    void reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) all.set(c, at), (at += c.byteLength);
  return new TextDecoder().decode(all.subarray(0, RESPONSE_PREFIX_BYTES));
}

export class WebhookSender {
  private readonly loop: PollLoop;
  private nextPurge = 0;
  private readonly now: () => number;
  private readonly fetch: FetchLike;
  private readonly timeoutMs: number;
  private readonly leaseMs: number;

  constructor(private readonly deps: WebhookSenderDeps) {
    this.now = deps.now ?? Date.now;
    this.fetch = deps.fetch ?? ((url, init) => fetch(url, init));
    this.timeoutMs = deps.config.timeoutMs ?? 15_000;
    // Longer than any attempt can take, so a live sender never loses its lease mid-send.
    this.leaseMs = this.timeoutMs * 2 + 5_000;
    this.loop = new PollLoop(() => this.pass(), deps.config.pollMs);
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** Sends what is due now; resolves when every attempt is recorded. Returns how many were sent. */
  async drainOnce(): Promise<number> {
    if (!(await anyDue(this.deps.sql, this.now()))) return 0;
    const ids = await this.deps.writer.writePlan(leaseDuePlan(this.now(), this.leaseMs, this.deps.config.concurrency ?? 8), { durable: false });
    const due = await leasedDetails(this.deps.sql, ids);
    await Promise.all(due.map((d) => this.attempt(d)));
    return due.length;
  }

  /** One turn of the loop: old events purged now and then, then what is due sent. */
  private async pass(): Promise<PassResult> {
    const keep = this.deps.config.retentionMs ?? 0;
    if (keep > 0 && this.now() >= this.nextPurge) {
      this.nextPurge = this.now() + PURGE_EVERY_MS;
      await purgeOldEvents(this.deps.writer, this.now() - keep).catch((err) => this.deps.log("purge_failed", { error: errorFields(err) }));
    }
    try {
      return (await this.drainOnce()) > 0 ? "more" : "idle";
    } catch (err) {
      this.deps.log("webhook_error", { error: errorFields(err) });
      return "idle";
    }
  }

  private async secretsOf(d: DueDelivery): Promise<string[]> {
    const e = d.endpoint;
    const out = [await this.deps.secrets.open(e.secret, secretPurpose(e.id))];
    if (e.previousSecret && e.previousUntil !== null && e.previousUntil > this.now()) out.push(await this.deps.secrets.open(e.previousSecret, secretPurpose(e.id)));
    return out;
  }

  private async attempt(d: DueDelivery): Promise<void> {
    const started = this.now();
    let result: AttemptResult;
    let why: Why;
    try {
      [result, why] = await this.send(d, started);
    } catch (err) {
      this.deps.log("webhook_attempt_error", { webhook: d.endpoint.id, delivery: d.id, error: errorFields(err) });
      result = this.failure(d, null, requestErrorText(err), started, null);
      why = { reason: requestErrorText(err) };
    }
    await this.deps.writer.writePlan(recordAttemptPlan(d, result, this.now()));
    const outcome: WebhookAttemptOutcome = why.refused ? "refused" : result.outcome === "retry" ? "retried" : result.outcome;
    this.deps.count?.(outcome);
    // Under its own name: the payload's type goes in `type` (an `event` field would replace the line's name).
    this.deps.log("webhook_attempt", {
      webhook: d.endpoint.id,
      delivery: d.id,
      type: d.event.type,
      attempt: d.attempts + 1,
      status: result.status,
      latency_ms: result.latencyMs,
      outcome,
      reason: why.reason,
      ...(why.fix ? { fix: why.fix } : {}),
      ...(result.nextAttemptAt !== undefined ? { next_attempt_at: new Date(result.nextAttemptAt).toISOString() } : {}),
    });
  }

  private async send(d: DueDelivery, started: number): Promise<[AttemptResult, Why]> {
    const { config } = this.deps;
    const network = this.deps.network;
    const destination = await checkDestination(d.endpoint.url, config.allowPrivate, network?.resolveHost);
    if ("problem" in destination) {
      const failed = this.failure(d, null, destination.problem, started, null);
      // No address at all: the name did not resolve.
      if (destination.refused.length === 0) return [failed, { reason: `dns: ${destination.problem}` }];
      // What the name resolved to is for the operator, not for the tenant's attempt log.
      const fix = `${ALLOW_PRIVATE_WEBHOOKS}=true (tests only)`;
      this.deps.log("webhook_destination_refused", { webhook: d.endpoint.id, delivery: d.id, addresses: destination.refused, fix });
      return [failed, { reason: `refused destination: ${destination.problem}`, refused: true, fix }];
    }
    const id = `evt_${d.event.id}`;
    const body = JSON.stringify(eventPayload(d.event));
    const timestamp = Math.floor(this.now() / 1000);
    const headers = {
      "content-type": "application/json",
      "user-agent": "smarthost-webhooks",
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": await signatureHeader(await this.secretsOf(d), id, timestamp, body),
    };
    let res: Response;
    try {
      // No redirects: a 3xx is an answer like any other non-2xx (it could point anywhere).
      const init: WebhookInit = { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(this.timeoutMs) };
      res = network && destination.addresses ? await network.post(d.endpoint.url, init, destination.addresses) : await this.fetch(d.endpoint.url, init);
    } catch (err) {
      const timedOut = (err as Error).name === "TimeoutError" || (err as Error).name === "AbortError";
      if (!timedOut) this.deps.log("webhook_request_failed", { webhook: d.endpoint.id, delivery: d.id, error: errorFields(err) });
      const text = timedOut ? `no answer within ${this.timeoutMs / 1000} s` : requestErrorText(err);
      return [this.failure(d, null, text, started, null), { reason: timedOut ? `timeout: ${text}` : text }];
    }
    const text = await responsePrefix(res).catch(() => "");
    const latencyMs = this.now() - started;
    const why = { reason: `HTTP ${res.status}` };
    if (res.status >= 200 && res.status < 300) return [{ status: res.status, latencyMs, response: text, outcome: "delivered" }, why];
    if (res.status === 410) return [{ status: 410, latencyMs, response: text, outcome: "gone" }, { reason: "HTTP 410: the endpoint is disabled" }];
    const retryAfter = res.status === 429 || res.status === 503 ? retryAfterMs(res.headers.get("retry-after"), this.now()) : null;
    return [this.failure(d, res.status, text, started, retryAfter), why];
  }

  private failure(d: DueDelivery, status: number | null, response: string, started: number, retryAfter: number | null): AttemptResult {
    const now = this.now();
    const next = nextAttemptAt(now, d.attempts + 1, this.deps.config.retrySeconds ?? DEFAULT_RETRY_SECONDS, retryAfter);
    return { status, latencyMs: now - started, response, outcome: next === null ? "failed" : "retry", nextAttemptAt: next ?? undefined };
  }
}
