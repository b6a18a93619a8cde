/**
 * The relay's name where the runtime knows the machine (Bun, Deno): SMARTHOST_HOSTNAME when
 * set, else the machine's fully qualified name as `hostname -f` finds it — the kernel's
 * name when it has a dot, else the name the resolver gives back for that name's address
 * (/etc/hosts, then DNS), when it is the short name with a domain after it — else the
 * short name. Receiving MXes look up the name a client gives in EHLO (RFC 5321 §4.1.4
 * lets them log it, and many refuse a bare or unresolvable one, as Postfix's
 * reject_non_fqdn_helo_hostname and reject_unknown_helo_hostname do), so a name that is
 * not fully qualified, or does not resolve, is logged once at start.
 */
import { lookup, lookupService } from "node:dns/promises";
import { hostname as osHostname } from "node:os";
import { relayHostname, type Config } from "../config.ts";
import type { Logger } from "../core/log.ts";

export interface NameLookup {
  /** The kernel's host name (os.hostname()). */
  machineName(): string;
  /** The addresses of a name (getaddrinfo: /etc/hosts, then DNS). */
  addresses(name: string): Promise<string[]>;
  /** The name of an address (getnameinfo: /etc/hosts, then its PTR record). */
  nameOf(address: string): Promise<string>;
}

export const systemLookup: NameLookup = {
  machineName: () => osHostname(),
  addresses: async (name) => (await lookup(name, { all: true })).map((a) => a.address),
  nameOf: async (address) => (await lookupService(address, 0)).hostname,
};

// A resolver that does not answer must not hold start-up for long.
const LOOKUP_MS = 2_000;

async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([p.catch(() => null), late]);
  } finally {
    clearTimeout(timer);
  }
}

const qualified = (name: string) => /^[^.]+\.[^.]/.test(name);

/** The machine's fully qualified name when the system knows one, else its short name ("" when it has none). */
export async function machineHostname(look: NameLookup = systemLookup, ms = LOOKUP_MS): Promise<string> {
  const short = look.machineName().trim();
  if (short === "" || qualified(short)) return short;
  const prefix = `${short.toLowerCase()}.`;
  for (const address of (await within(look.addresses(short), ms)) ?? []) {
    const name = (await within(look.nameOf(address), ms))?.replace(/\.$/, "");
    // Only this machine's own name with a domain: getnameinfo of 127.0.0.1 says "localhost".
    if (name && name.toLowerCase().startsWith(prefix) && qualified(name)) return name;
  }
  return short;
}

// RFC 6761, RFC 6762, RFC 8375: names no one else resolves.
const SPECIAL_USE = /\.(test|example|invalid|localhost|local|home\.arpa)$/i;

/** Why other mail servers will not accept `name` as this relay's, or null when it looks right. */
export async function hostnameProblem(name: string, look: NameLookup = systemLookup, ms = LOOKUP_MS): Promise<string | null> {
  if (!qualified(name)) return "not fully qualified";
  if (SPECIAL_USE.test(name.replace(/\.$/, ""))) return "a special-use name that does not resolve outside this network";
  const addresses = await within(look.addresses(name), ms);
  return addresses && addresses.length > 0 ? null : "does not resolve";
}

/** The relay's name: SMARTHOST_HOSTNAME, else the machine's (looked up only then). */
export async function configuredHostname(config: Pick<Config, "SMARTHOST_HOSTNAME">, look: NameLookup = systemLookup, ms = LOOKUP_MS): Promise<string> {
  return relayHostname(config, config.SMARTHOST_HOSTNAME ? undefined : await machineHostname(look, ms));
}

/** The name serve uses, and one warning line when other servers will not take it. */
export async function startHostname(config: Pick<Config, "SMARTHOST_HOSTNAME">, log: Logger, look: NameLookup = systemLookup, ms = LOOKUP_MS): Promise<string> {
  const name = await configuredHostname(config, look, ms);
  const problem = await hostnameProblem(name, look, ms);
  if (problem) log("hostname_warning", { hostname: name, problem, hint: "set SMARTHOST_HOSTNAME to this relay's fully qualified name, with an address record (and a PTR back to it)" });
  return name;
}
