/** The header-block limits of src/mime/trace-limits.ts as gateway refusals, for every source. */
import { MAX_HOPS, traceProblem } from "../mime/trace-limits.ts";
import type { Metrics } from "./metrics.ts";
import { Failure } from "../core/failure.ts";

export function refuseTraceProblems(raw: Uint8Array, metrics: Metrics): void {
  const p = traceProblem(raw);
  if (!p) return;
  if (p.kind === "header-too-large") {
    metrics.rejected("header_too_large");
    throw new Failure("too-large", `Message header exceeds fixed limit of ${p.limit} octets`, { code: "header_too_large" });
  }
  metrics.rejected("too_many_hops");
  throw new Failure("too-many-hops", `Too many hops (${p.hops} Received: header fields; ${MAX_HOPS} or more is taken for a mail loop)`);
}
