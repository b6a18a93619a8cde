/** The dkim_keys rows: reading the keys that sign, and moving a selector through its states. */
import { and, eq, inArray, ne } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { dkimKeys } from "../db/schema-deliverability.ts";
import { publishedKey } from "./keys.ts";
import { errorText } from "../core/log.ts";

export type DkimKeyRow = typeof dkimKeys.$inferSelect;

/** `(domain, selector)` is what a sealed key is bound to, so a row copied elsewhere does not open. */
export const sealPurpose = (domain: string, selector: string): string => `dkim:${domain}:${selector}`;

/** A TXT lookup (node:dns `resolveTxt` shape: each record as its character-strings). */
export type TxtLookup = (name: string) => Promise<string[][]>;

/** The domain and each parent that could sign for it (`a.b.example.com` → …, `example.com`). */
export function signingCandidates(domain: string): string[] {
  const labels = domain.toLowerCase().replace(/\.$/, "").split(".");
  const out: string[] = [];
  for (let i = 0; i + 2 <= labels.length; i++) out.push(labels.slice(i).join("."));
  return out;
}

/** Keys that sign or wait to (pending), for the domain and its parents. */
export function liveKeysFor(db: Db, domains: string[]): Promise<DkimKeyRow[]> {
  if (domains.length === 0) return Promise.resolve([]);
  return db.select().from(dkimKeys).where(and(inArray(dkimKeys.domain, domains), ne(dkimKeys.state, "retired")));
}

/** Makes a key sign, and retires the domain's other active keys of the same algorithm. */
export async function activateKey(db: Db, row: DkimKeyRow, now: number): Promise<void> {
  await db
    .update(dkimKeys)
    .set({ state: "retired", retiredAt: now })
    .where(and(eq(dkimKeys.domain, row.domain), eq(dkimKeys.algorithm, row.algorithm), eq(dkimKeys.state, "active"), ne(dkimKeys.id, row.id)));
  await db.update(dkimKeys).set({ state: "active", activatedAt: now }).where(eq(dkimKeys.id, row.id));
}

/** What the selector's DNS record says now: the key it publishes, or why there is none. */
export async function lookupPublishedKey(lookup: TxtLookup, name: string): Promise<{ publicKey: string; algorithm: string } | { missing: string }> {
  let records: string[][];
  try {
    records = await lookup(name);
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    return { missing: code === "ENOTFOUND" || code === "ENODATA" ? "no TXT record" : `lookup failed (${errorText(err)})` };
  }
  // RFC 6376 §3.6.2.2: the strings of one record are joined without spaces.
  const keys = records.map((r) => publishedKey(r.join(""))).filter((k) => k !== null);
  if (keys.length === 0) return { missing: "no DKIM record (v=DKIM1; p=…)" };
  if (keys.length > 1) return { missing: "more than one DKIM record" };
  return keys[0]!;
}

/** Activates each pending key whose record is published with its public key; returns those activated. */
export async function activatePublished(db: Db, lookup: TxtLookup, pending: DkimKeyRow[], now: number): Promise<DkimKeyRow[]> {
  const done: DkimKeyRow[] = [];
  for (const row of pending) {
    if (row.state !== "pending") continue;
    const seen = await lookupPublishedKey(lookup, `${row.selector}._domainkey.${row.domain}`);
    if ("publicKey" in seen && seen.publicKey === row.publicKey) {
      await activateKey(db, row, now);
      done.push(row);
    }
  }
  return done;
}
