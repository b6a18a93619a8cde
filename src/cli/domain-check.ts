/** `smarthost domain check DOMAIN [--json]`. */
import { parseArgs } from "node:util";
import { hostname as osHostname } from "node:os";
import { relayHostname, type Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { checkNamedDomain, fetchPolicyText, formatReport } from "../domain-check/check.ts";
import type { DnsResolve } from "../domain-check/dns.ts";
import { Failure } from "../core/failure.ts";
import { daneProbe } from "../runtime/dane-probe.ts";

export const DOMAIN_USAGE = `  domain check DOMAIN [--json]                   SPF, DKIM, DMARC, MTA-STS, TLS-RPT, DANE as published; the records still to publish`;

/** Returns the text to print and whether everything is published (exit status 0). */
export async function domainCheckCommand(args: string[], db: Db, config: Config, resolve: DnsResolve): Promise<{ text: string; ok: boolean }> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean" } } });
  if (positionals.length !== 1 || !positionals[0]) throw new Failure("invalid", "usage: smarthost domain check DOMAIN [--json]");
  const report = await checkNamedDomain({ db, resolve, fetchPolicy: fetchPolicyText, sendingIps: config.SMARTHOST_SENDING_IPS, dane: daneProbe(config), inboundHost: relayHostname(config, osHostname()) }, positionals[0]);
  return { text: values.json ? JSON.stringify(report) : formatReport(report), ok: report.ok };
}
