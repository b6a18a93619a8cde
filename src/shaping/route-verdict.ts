/**
 * What one session with a relay says about the route, apart from what it says about each
 * recipient. A route is judged on evidence about the route only: the session before MAIL
 * (connect, greeting, EHLO, STARTTLS, AUTH), MAIL, DATA, or a relay refusing every
 * recipient of the transaction (classify.ts gives scope "route" to nothing else). One
 * recipient refused while others are accepted says nothing about the route; neither does a
 * refusal a relay gives an address it has refused on its own before (RefusedRecipients).
 */
import { isAuthFailure } from "../core/delivery-result.ts";
import type { RecipientResult } from "../core/delivery-result.ts";

/** A failure counts toward the breaker, a success resets it, "none" tells nothing either way. */
export type Verdict = { kind: "failure"; failure: RecipientResult; atOnce: boolean } | { kind: "success" } | { kind: "none" };

const refusedAlone = (r: RecipientResult) => r.outcome !== "delivered" && r.scope === "recipient";

/**
 * A route-scoped transient refusal is a failure, anything else a success (the relay took
 * MAIL; what it said of a recipient is that recipient's). Only a failure of our
 * credentials trips the breaker at once; the rest count toward its threshold.
 * `refusedBefore` tells whether the relay already refused an address on its own: every
 * recipient refused at RCPT, each such an address, tells nothing about the route.
 */
export function routeVerdict(results: RecipientResult[], refusedBefore: (address: string) => boolean): Verdict {
  // A recipient delivered: the route carried mail, whatever else the session said.
  if (results.some((r) => r.outcome === "delivered")) return { kind: "success" };
  const failure = results.find((r) => r.outcome === "transient" && r.scope === "route");
  if (!failure) return { kind: "success" };
  if (failure.stage === "RCPT" && results.every((r) => refusedBefore(r.address))) return { kind: "none" };
  return { kind: "failure", failure, atOnce: isAuthFailure(failure.reply, failure.stage ?? null) };
}

/**
 * Addresses a route's relay refused on their own (a recipient-scoped refusal, 4xx or 5xx),
 * remembered on this node for a while: such an address is never the probe of a half-open
 * route, and its later refusals are not held against the route. Bounded: the oldest
 * entries go first.
 */
export class RefusedRecipients {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly keepMs = 15 * 60_000,
    private readonly max = 10_000,
  ) {}

  /** Records what a session said of each address on `route`. */
  note(route: string, results: RecipientResult[], now: number): void {
    for (const r of results) {
      const key = `${route}\0${r.address.toLowerCase()}`;
      // Delivered: forgotten. A route-scoped answer says nothing about the address: kept.
      if (r.outcome === "delivered") this.seen.delete(key);
      else if (refusedAlone(r)) {
        this.seen.delete(key); // re-inserted last: the oldest entries go first
        this.seen.set(key, now + this.keepMs);
      }
    }
    for (const oldest of this.seen.keys()) {
      if (this.seen.size <= this.max) break;
      this.seen.delete(oldest);
    }
  }

  has(route: string, address: string, now: number): boolean {
    return (this.seen.get(`${route}\0${address.toLowerCase()}`) ?? 0) > now;
  }
}
