/** Argument parsing and output of `smarthost dkim …` (the work is in dkim.ts). */
import { parseArgs } from "node:util";
import { activateDkimKey, addDkimKey, removeDkimKey, rotateDkimKey, type AlgorithmChoice, type DkimAdminDeps, type DkimKeyView } from "./dkim.ts";
import { Failure } from "../core/failure.ts";

export const DKIM_USAGE = `  dkim add DOMAIN [--selector S] [--algorithm rsa|ed25519|both]   prints the DNS TXT record(s) to publish
  dkim rotate DOMAIN [--activate]                new selector, signing once its record is published
  dkim activate DOMAIN SELECTOR
  dkim remove DOMAIN SELECTOR`;

const ALGORITHMS = ["rsa", "ed25519", "both"] as const;

function published(keys: DkimKeyView[], what: string): string {
  const lines = keys.map((k) => `${k.domain} ${k.selector} (${k.algorithm}) ${what}${k.state === "pending" ? ", pending until this record is published" : ""}`);
  return [...lines, "publish in DNS:", ...keys.map((k) => k.record)].join("\n");
}

function exactly(pos: string[], n: number, usage: string): string[] {
  if (pos.length !== n) throw new Failure("invalid", `usage: smarthost ${usage}`);
  return pos;
}

/** Runs one `dkim` subcommand; returns what to print. */
export async function dkimCommand(sub: string, args: string[], deps: DkimAdminDeps): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { selector: { type: "string" }, algorithm: { type: "string" }, activate: { type: "boolean" } },
  });
  switch (sub) {
    case "add": {
      const [domain] = exactly(positionals, 1, "dkim add DOMAIN [--selector S] [--algorithm rsa|ed25519|both]");
      const algorithm = values.algorithm ?? "rsa";
      if (!(ALGORITHMS as readonly string[]).includes(algorithm)) throw new Failure("invalid", "--algorithm must be rsa, ed25519 or both");
      return published(await addDkimKey(deps, domain!, { selector: values.selector, algorithm: algorithm as AlgorithmChoice }), "added");
    }
    case "rotate": {
      const [domain] = exactly(positionals, 1, "dkim rotate DOMAIN [--activate]");
      return published(await rotateDkimKey(deps, domain!, { activate: values.activate, selector: values.selector }), "made");
    }
    case "activate": {
      const [domain, selector] = exactly(positionals, 2, "dkim activate DOMAIN SELECTOR");
      const k = await activateDkimKey(deps, domain!, selector!);
      return `${k.domain} ${k.selector} now signs`;
    }
    case "remove": {
      const [domain, selector] = exactly(positionals, 2, "dkim remove DOMAIN SELECTOR");
      await removeDkimKey(deps, domain!, selector!);
      return `${domain} ${selector} removed; its DNS record can go once mail signed with it is delivered`;
    }
    default:
      throw new Failure("invalid", `usage:\n${DKIM_USAGE}`);
  }
}
