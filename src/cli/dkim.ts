/** `dkim …` and `domain check` commands: the table's entries around the DKIM admin and the domain check. */
import { dkimCommand } from "../admin/dkim-cli.ts";
import { listDkimKeys } from "../admin/dkim.ts";
import { txtLookup } from "../domain-check/dns.ts";
import { domainCheckCommand } from "./domain-check.ts";
import { createDnsResolve } from "../runtime/node-dns-records.ts";
import { JSON_OPTION, printRows, withDb } from "./io.ts";
import type { Command, Context, Option } from "./table.ts";

/** The parsed flags handed back as arguments: dkim-cli.ts reads its own options. */
function flags(values: Context["values"], names: string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    const v = values[n];
    if (v === true) out.push(`--${n}`);
    else if (typeof v === "string") out.push(`--${n}`, v);
  }
  return out;
}

function dkim(sub: string, args: string, summary: string, options: Record<string, Option> = {}): Command {
  return {
    name: `dkim ${sub}`,
    args,
    summary,
    options,
    async run({ config, args: pos, values, out }) {
      const text = await withDb(config, (db, secrets) =>
        dkimCommand(sub, [...pos, ...flags(values, Object.keys(options))], { db, secrets, lookupTxt: txtLookup(createDnsResolve(config.SMARTHOST_DNS_SERVERS)) }),
      );
      out(text);
      return 0;
    },
  };
}

export const dkimCommands: Command[] = [
  dkim("add", "DOMAIN", "make a signing key (RSA 2048 by default); prints the DNS TXT record(s) to publish", {
    selector: { type: "string", value: "S", help: "selector name (default: a dated one)" },
    algorithm: { type: "string", value: "rsa|ed25519|both", help: "key type; both signs twice" },
  }),
  {
    name: "dkim list",
    args: "[DOMAIN]",
    summary: "signing keys with their state (pending, active, retired) and DNS records",
    options: JSON_OPTION,
    async run(ctx) {
      const keys = await withDb(ctx.config, (db) => listDkimKeys({ db, lookupTxt: txtLookup(createDnsResolve(ctx.config.SMARTHOST_DNS_SERVERS)) }, ctx.args[0]));
      printRows(ctx, keys, "no DKIM keys", (k) => ({
        domain: k.domain,
        selector: k.selector,
        algorithm: k.algorithm,
        state: k.state,
        // When it entered that state: a pending key signs once its record is published.
        since: k.state === "retired" ? k.retired_at : k.state === "active" ? k.activated_at : k.created_at,
        record: k.record,
      }));
      return 0;
    },
  },
  dkim("rotate", "DOMAIN", "a new selector, signing once its record is published; the old one is retired", {
    activate: { type: "boolean", help: "sign with the new key at once" },
    selector: { type: "string", value: "S", help: "selector name for the new key" },
  }),
  dkim("activate", "DOMAIN SELECTOR", "sign with a pending key now"),
  dkim("remove", "DOMAIN SELECTOR", "delete a key (keep its DNS record until mail signed with it is delivered)"),
  {
    name: "domain check",
    args: "DOMAIN",
    summary: "SPF, DKIM, DMARC, MTA-STS and TLS-RPT as published, and the records still to publish;\nexit status 1 while any check fails, 0 when all pass",
    options: JSON_OPTION,
    async run({ config, args, values, out }) {
      const r = await withDb(config, (db) => domainCheckCommand([...args, ...flags(values, ["json"])], db, config, createDnsResolve(config.SMARTHOST_DNS_SERVERS)));
      out(r.text);
      // Like a linter: a script or a deploy check can stop on a record still to publish.
      return r.ok ? 0 : 1;
    },
  },
];
