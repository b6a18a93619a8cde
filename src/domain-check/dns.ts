/** The DNS port of the domain check: mailauth's resolver shape (`resolve(name, rrtype)`). */
import type { TxtLookup } from "../dkim/store.ts";
import { errorText } from "../core/log.ts";

export type DnsResolve = (name: string, rrtype: string) => Promise<unknown[]>;

export const txtLookup = (resolve: DnsResolve): TxtLookup => (name) => resolve(name, "TXT") as Promise<string[][]>;

/** The TXT records at a name, each joined (RFC 7208 §3.3); none when the name has none. */
export async function txtRecords(resolve: DnsResolve, name: string): Promise<string[] | { failed: string }> {
  try {
    return ((await resolve(name, "TXT")) as string[][]).map((r) => r.join(""));
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (code === "ENOTFOUND" || code === "ENODATA") return [];
    return { failed: `DNS lookup of ${name} failed (${errorText(err)})` };
  }
}

/** Registrable-ish domain of a host (its last two labels): `smtp.provider.example` → `provider.example`. */
export const baseDomain = (host: string): string => host.toLowerCase().split(".").slice(-2).join(".");
