/**
 * The domain check's DANE probe (domain-check/dane.ts) on the delivery's own lookup
 * (delivery/dane-lookup.ts) through the validating resolver in SMARTHOST_DNS_SERVERS, so
 * `domain check` shows what delivery will do. Undefined when SMARTHOST_DANE is off.
 */
import type { Config } from "../config.ts";
import type { Logger } from "../core/log.ts";
import { createDaneLookup, type DaneLookup } from "../delivery/dane-lookup.ts";
import type { DaneHostView, DaneProbe } from "../domain-check/dane.ts";
import { createDnsExchange } from "./node-dns-exchange.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

export function probeFrom(lookup: DaneLookup): DaneProbe {
  return async (domain, mxNames) => {
    const d = await lookup.forDomain(domain, mxNames);
    if ("failed" in d) return { state: "failed", reason: d.failed };
    if (!d.secure) return { state: "unsigned" };
    const hosts: DaneHostView[] = mxNames.map((name) => {
      const h = d.hosts.get(name) ?? { kind: "none" as const };
      if (h.kind === "tlsa") return { name, kind: "tlsa", detail: h.records.map((r) => `${r.usage} ${r.selector} ${r.matchingType} ${hex(r.data).slice(0, 16)}…`).join(", ") };
      if (h.kind === "failed") return { name, kind: "failed", detail: h.reason };
      return { name, kind: h.kind };
    });
    return { state: "secure", hosts };
  };
}

export function daneProbe(config: Config, log?: Logger): DaneProbe | undefined {
  if (config.SMARTHOST_DANE !== "on") return undefined;
  return probeFrom(createDaneLookup(createDnsExchange(config.SMARTHOST_DNS_SERVERS), log));
}
