/**
 * DMARC alignment at acceptance, for every source: the facts for domain-check/alignment.ts
 * — which key will sign (the signer's own cached list), which way the recipients' mail
 * leaves (routes, read every few seconds), the envelope domain's SPF (kept per domain for
 * minutes, looked up only when it could decide) — and what follows: a warning for the
 * sender, or with the account's `--require-alignment` a refusal (550 5.7.26 / 422).
 */
import { Failure } from "../core/failure.ts";
import type { Logger } from "../core/log.ts";
import type { Db } from "../db/client.ts";
import { routes } from "../db/schema.ts";
import { parseRoute } from "../delivery/routing.ts";
import type { MessageSigner } from "../dkim/signer.ts";
import { alignmentText, judgeAlignment, spfCanAlign, type AlignmentFacts } from "../domain-check/alignment.ts";
import type { SpfVerdicts } from "../domain-check/spf-verdict.ts";
import { Cached } from "../util/cached.ts";
import type { AcceptWarning } from "./list-unsubscribe.ts";

// A route added or removed is seen within this.
const ROUTES_CACHE_MS = 5_000;

export interface AlignmentDeps {
  db: Db;
  /** Absent (no SMARTHOST_SECRET_KEY): nothing is signed. */
  signer?: MessageSigner;
  /** Absent (no DNS port, as on Workers): judged by DKIM alone. */
  spf?: SpfVerdicts;
  /** SMARTHOST_UPSTREAM: the route of a domain with none of its own and no "*". */
  upstream: string;
  now: () => number;
  log?: Logger;
}

export interface AlignmentRequest {
  accountId: string;
  mailFrom: string | null;
  /** The From: addresses the sender check read; the first is the one the signer signs for. */
  headerFrom: string[];
  recipients: readonly { domain: string }[];
  /** The account's `--require-alignment`. */
  required: boolean;
}

/** An unaligned message that is accepted: the sender's warning, and its log line once it has an id. */
export interface Unaligned {
  warning: AcceptWarning;
  log(messageId: string): void;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1).toLowerCase();

export function createAlignmentCheck(deps: AlignmentDeps) {
  const routeKinds = new Cached(ROUTES_CACHE_MS, async () => {
    const byDomain = new Map<string, ("mx" | "relay")[]>();
    for (const r of await deps.db.select({ domain: routes.domain, url: routes.url }).from(routes)) {
      const kind = parseRoute(r.url)?.kind;
      if (kind) byDomain.set(r.domain, [...(byDomain.get(r.domain) ?? []), kind]);
    }
    return byDomain;
  });

  /** "relay" when any recipient's mail may leave through a relay (a failover included). */
  const routesOf = async (recipients: readonly { domain: string }[]): Promise<"mx" | "relay"> => {
    const byDomain = await routeKinds.get(deps.now());
    const fallback = byDomain.get("*") ?? [parseRoute(deps.upstream)?.kind ?? "mx"];
    const relayed = recipients.some((r) => (byDomain.get(r.domain.toLowerCase()) ?? fallback).includes("relay"));
    return relayed ? "relay" : "mx";
  };

  /** Null when the From: domain aligns; throws the refusal when the account requires it. */
  return async function checkAlignment(m: AlignmentRequest): Promise<Unaligned | null> {
    const from = m.headerFrom[0];
    // No From: address to align with: the sender check has already answered for that.
    if (!from || !from.includes("@")) return null;
    const fromDomain = domainOf(from);
    const facts: AlignmentFacts = {
      fromDomain,
      envelopeDomain: m.mailFrom ? domainOf(m.mailFrom) : null,
      signingDomain: deps.signer ? await deps.signer.signingDomain(fromDomain) : null,
      routes: await routesOf(m.recipients),
    };
    let verdict = judgeAlignment(facts);
    if (!verdict.aligned && spfCanAlign(facts) && facts.envelopeDomain) {
      facts.spf = deps.spf ? await deps.spf(facts.envelopeDomain) : "unchecked";
      verdict = judgeAlignment(facts);
    }
    if (verdict.aligned) return null;
    const text = alignmentText(facts, verdict);
    const fields = { account_id: m.accountId, from_domain: fromDomain, envelope_domain: facts.envelopeDomain, dkim: verdict.dkim, spf: verdict.spf };
    if (m.required) {
      // DNS that did not answer decides nothing: the client tries again.
      if (verdict.spf === "spf_temperror") throw new Failure("temporary", `${text}; try again later`, { code: "dmarc_check_unavailable", reason: "SPF lookup did not answer" });
      deps.log?.("dmarc_unaligned", { ...fields, refused: true });
      throw new Failure("unaligned", `${text}; this account requires alignment`, { code: "dmarc_unaligned" });
    }
    return {
      warning: { code: "dmarc_unaligned", message: text },
      log: (messageId) => deps.log?.("dmarc_unaligned", { message_id: messageId, ...fields, refused: false }),
    };
  };
}

export type AlignmentCheck = ReturnType<typeof createAlignmentCheck>;
