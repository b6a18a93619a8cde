/**
 * Target planning: the hosts one route leads to, in order, with what each demands of TLS —
 * a relay route is its one host; MX delivery looks up the domain's MX hosts and applies
 * DANE first (RFC 8461 §2: where the domain has it, MTA-STS does not apply), then the
 * domain's MTA-STS policy. Or, when no host may be tried, the attempt that says why.
 */
import type { Logger } from "../core/log.ts";
import { upstreamReplies } from "../core/reply.ts";
import { daneTargets } from "./dane-plan.ts";
import type { DaneLookup } from "./dane-lookup.ts";
import { stored, type Attempt } from "./decide.ts";
import { mxHostsFor, type Resolver } from "./mx.ts";
import { mxUnderPolicy, stsDemand, unmatchedTls, type MtaSts } from "./mta-sts.ts";
import type { Route } from "./routing.ts";
import type { SmtpTarget } from "./smtp-client.ts";
import type { TlsDemand } from "./tls-outcome.ts";

/** A host to try, with what its domain's MTA-STS policy (or DANE) demands of TLS (absent for routes). */
export type Target = SmtpTarget & { sts?: TlsDemand };

export interface TargetDeps {
  resolver: Resolver;
  dane?: DaneLookup;
  mtaSts?: MtaSts;
  log: Logger;
  allowPrivateMx: boolean;
  mxPort: number;
}

export async function targetsFor(deps: TargetDeps, route: Route, domain: string): Promise<Target[] | Attempt> {
  if (route.kind === "relay") return [route.target];
  const lookup = await mxHostsFor(domain, deps.resolver, deps.allowPrivateMx);
  const dane = deps.dane ? await daneTargets(deps.dane, domain, lookup, deps.mxPort) : null;
  if (dane) return dane;
  if (!lookup.ok) {
    const reply = upstreamReplies.mxLookup(lookup.outcome === "permanent", lookup.enhanced, lookup.reason);
    return { outcome: lookup.outcome, reply: stored(reply), via: `mx ${domain}`, remoteMta: null };
  }
  const policy = (await deps.mtaSts?.policyFor(domain)) ?? null;
  const plan = mxUnderPolicy(policy, lookup.hosts);
  const sts = stsDemand(policy);
  if ("refused" in plan) return { outcome: "transient", reply: stored(upstreamReplies.mtaStsRefused(plan.refused)), via: `mx ${domain}`, remoteMta: null, tls: unmatchedTls(sts) };
  for (const note of plan.notes) deps.log("mta_sts_testing", { domain, note });
  return plan.hosts.map((h) => ({ hostname: h.address, tlsName: h.name, port: deps.mxPort, tls: h.enforce ? "starttls-required" : "starttls-opportunistic", verifyTls: h.enforce, relay: false, sts: stsDemand(policy, h) }));
}
