/**
 * SPF verdicts for the acceptance path: does the envelope sender's domain authorize every
 * address MX delivery leaves from (SMARTHOST_SENDING_IPS)? Kept per domain for a few
 * minutes, so only the first message from a domain in that time waits for DNS, and at
 * most WAIT_MS; after that a stale verdict answers while a fresh one is looked up.
 */
import { spf } from "mailauth/lib/spf/index.js";
import type { SpfVerdict } from "./alignment.ts";
import type { DnsResolve } from "./dns.ts";

// Records change rarely; a change is seen within this.
const VERDICT_MS = 5 * 60_000;
// A resolver that did not answer is asked again sooner.
const TEMPERROR_MS = 60_000;
// The longest a message waits for a domain's first lookup (from the lookup's start).
const WAIT_MS = 2_000;
const MAX_DOMAINS = 10_000;

export type SpfVerdicts = (domain: string) => Promise<SpfVerdict>;

interface Entry {
  /** The last settled verdict and when it settled. */
  verdict?: SpfVerdict;
  settledAt: number;
  /** The lookup under way, with when it started. */
  running?: { promise: Promise<SpfVerdict>; startedAt: number };
}

/** RFC 7208 §2.6: only `pass` counts for DMARC; `temperror` means ask again. */
async function evaluate(resolve: DnsResolve, domain: string, ips: string[]): Promise<SpfVerdict> {
  const results = await Promise.all(
    ips.map((ip) =>
      spf({ ip, sender: `postmaster@${domain}`, helo: domain, mta: "smarthost", resolver: resolve as never }).then(
        (r) => r.status.result,
        () => "temperror",
      ),
    ),
  );
  if (results.includes("temperror")) return "temperror";
  return results.every((r) => r === "pass") ? "pass" : "fail";
}

export function createSpfVerdicts(deps: { resolve: DnsResolve; sendingIps: string[]; now?: () => number; waitMs?: number }): SpfVerdicts {
  const now = deps.now ?? Date.now;
  const waitMs = deps.waitMs ?? WAIT_MS;
  const entries = new Map<string, Entry>();

  const start = (domain: string, entry: Entry) => {
    const startedAt = now();
    const promise = evaluate(deps.resolve, domain, deps.sendingIps).then((verdict) => {
      entry.verdict = verdict;
      entry.settledAt = now();
      entry.running = undefined;
      return verdict;
    });
    entry.running = { promise, startedAt };
    return entry.running;
  };

  return async (domainArg) => {
    // Nothing to check the record against.
    if (deps.sendingIps.length === 0) return "unchecked";
    const domain = domainArg.toLowerCase();
    let entry = entries.get(domain);
    if (!entry) {
      if (entries.size >= MAX_DOMAINS) entries.clear();
      entry = { settledAt: -Infinity };
      entries.set(domain, entry);
    }
    const t = now();
    if (entry.verdict !== undefined) {
      const fresh = t - entry.settledAt < (entry.verdict === "temperror" ? TEMPERROR_MS : VERDICT_MS);
      // Stale: answered from what was known while the record is read again.
      if (!fresh && !entry.running) start(domain, entry);
      return entry.verdict;
    }
    const running = entry.running ?? start(domain, entry);
    const left = running.startedAt + waitMs - t;
    if (left <= 0) return "temperror";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<SpfVerdict>((resolve) => (timer = setTimeout(() => resolve("temperror"), left)));
    try {
      return await Promise.race([running.promise, late]);
    } finally {
      clearTimeout(timer);
    }
  };
}
