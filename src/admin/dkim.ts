/**
 * DKIM keys: what `smarthost dkim add|list|rotate|activate|remove` do. Private keys are
 * sealed with SMARTHOST_SECRET_KEY before they are stored and never shown; what is shown
 * is the DNS record to publish.
 */
import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { dkimKeys } from "../db/schema-deliverability.ts";
import { dkimZoneLine, generateDkimKey, type DkimAlgorithm } from "../dkim/keys.ts";
import { activateKey, activatePublished, sealPurpose, type DkimKeyRow, type TxtLookup } from "../dkim/store.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import { isDomain } from "../smtp/address.ts";
import { newId } from "../smtp/ids.ts";
import { Failure, isUniqueViolation } from "../core/failure.ts";

export type AlgorithmChoice = DkimAlgorithm | "both";

export interface DkimAdminDeps {
  db: Db;
  /** Needed to add or rotate (sealing); listing and removing do without. */
  secrets?: SecretBox;
  /** Lets `list` activate pending selectors whose record is now published. */
  lookupTxt?: TxtLookup;
  now?: () => number;
}

export interface DkimKeyView {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  state: "pending" | "active" | "retired";
  created_at: string;
  activated_at: string | null;
  retired_at: string | null;
  /** The zone-file line to publish (or to keep published while retired). */
  record: string;
}

// RFC 6376 §3.1: a selector is one or more DNS labels.
const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

function view(r: DkimKeyRow): DkimKeyView {
  return {
    domain: r.domain,
    selector: r.selector,
    algorithm: r.algorithm,
    state: r.state,
    created_at: iso(r.createdAt)!,
    activated_at: iso(r.activatedAt),
    retired_at: iso(r.retiredAt),
    record: dkimZoneLine(r.domain, r.selector, r.algorithm, r.publicKey),
  };
}

function signingDomain(arg: string): string {
  const d = arg.toLowerCase().replace(/\.$/, "");
  if (!isDomain(d, false) || !d.includes(".")) throw new Failure("invalid", `"${arg}" is not a domain name`);
  return d;
}

function needSecrets(deps: DkimAdminDeps): SecretBox {
  if (!deps.secrets) throw new Failure("invalid", "SMARTHOST_SECRET_KEY is not set: DKIM private keys are stored encrypted with it");
  return deps.secrets;
}

const algorithmsOf = (choice: AlgorithmChoice): DkimAlgorithm[] => (choice === "both" ? ["rsa", "ed25519"] : [choice]);

/** Default selector: `shYYYYMMDD`, then `-2`, `-3`… if that day's is taken. */
async function freeSelectorBase(db: Db, domain: string, now: number, suffixes: string[]): Promise<string> {
  const taken = new Set((await db.select({ s: dkimKeys.selector }).from(dkimKeys).where(eq(dkimKeys.domain, domain))).map((r) => r.s));
  const day = new Date(now).toISOString().slice(0, 10).replace(/-/g, "");
  for (let n = 1; ; n++) {
    const base = n === 1 ? `sh${day}` : `sh${day}-${n}`;
    if (suffixes.every((s) => !taken.has(base + s))) return base;
  }
}

async function createKeys(deps: DkimAdminDeps, domain: string, choice: AlgorithmChoice, selector: string | undefined, state: "pending" | "active"): Promise<DkimKeyView[]> {
  const box = needSecrets(deps);
  const now = (deps.now ?? Date.now)();
  const algorithms = algorithmsOf(choice);
  const suffixes = algorithms.length > 1 ? algorithms.map((a) => `-${a}`) : [""];
  if (selector !== undefined && !SELECTOR.test(selector.toLowerCase())) throw new Failure("invalid", `"${selector}" is not a selector (DNS labels: letters, digits, '-')`);
  const base = selector?.toLowerCase() ?? (await freeSelectorBase(deps.db, domain, now, suffixes));
  const made: DkimKeyRow[] = [];
  for (const [i, algorithm] of algorithms.entries()) {
    const sel = base + suffixes[i]!;
    const key = await generateDkimKey(algorithm);
    const row: DkimKeyRow = {
      id: newId(),
      domain,
      selector: sel,
      algorithm,
      privateKey: await box.seal(key.privatePem, sealPurpose(domain, sel)),
      publicKey: key.publicKey,
      state: "pending",
      createdAt: now,
      activatedAt: null,
      retiredAt: null,
    };
    try {
      await deps.db.insert(dkimKeys).values(row);
    } catch (err) {
      if (isUniqueViolation(err)) throw new Failure("conflict", `selector "${sel}" already exists for ${domain}`);
      throw err;
    }
    if (state === "active") {
      await activateKey(deps.db, row, now);
      made.push({ ...row, state: "active", activatedAt: now });
    } else made.push(row);
  }
  return made.map(view);
}

/** A new key (or an RSA and an Ed25519 key with `both`) that signs at once. */
export async function addDkimKey(deps: DkimAdminDeps, domainArg: string, opts: { selector?: string; algorithm?: AlgorithmChoice } = {}): Promise<DkimKeyView[]> {
  return createKeys(deps, signingDomain(domainArg), opts.algorithm ?? "rsa", opts.selector, "active");
}

/**
 * A new selector for each algorithm the domain signs with, pending until its record is
 * published (or `activate`); when it starts signing, the old one is retired, not removed,
 * so mail signed with it still verifies while in flight.
 */
export async function rotateDkimKey(deps: DkimAdminDeps, domainArg: string, opts: { activate?: boolean; selector?: string } = {}): Promise<DkimKeyView[]> {
  const domain = signingDomain(domainArg);
  const active = await deps.db.select().from(dkimKeys).where(and(eq(dkimKeys.domain, domain), eq(dkimKeys.state, "active")));
  if (active.length === 0) throw new Failure("conflict", `${domain} has no active DKIM key: use dkim add`);
  const algos = [...new Set(active.map((r) => r.algorithm))].sort();
  const choice: AlgorithmChoice = algos.length > 1 ? "both" : algos[0]!;
  return createKeys(deps, domain, choice, opts.selector, opts.activate ? "active" : "pending");
}

/** Makes a pending (or retired) selector sign now. */
export async function activateDkimKey(deps: DkimAdminDeps, domainArg: string, selector: string): Promise<DkimKeyView> {
  const domain = signingDomain(domainArg);
  const [row] = await deps.db.select().from(dkimKeys).where(and(eq(dkimKeys.domain, domain), eq(dkimKeys.selector, selector.toLowerCase())));
  if (!row) throw new Failure("not-found", `no DKIM selector "${selector}" for ${domain}`);
  const now = (deps.now ?? Date.now)();
  await activateKey(deps.db, row, now);
  return view({ ...row, state: "active", activatedAt: now });
}

/** Every key (never the private half); pending ones whose record is now seen are activated first. */
export async function listDkimKeys(deps: DkimAdminDeps, domainArg?: string): Promise<DkimKeyView[]> {
  const where = domainArg === undefined ? undefined : eq(dkimKeys.domain, signingDomain(domainArg));
  const read = () => deps.db.select().from(dkimKeys).where(where).orderBy(asc(dkimKeys.domain), asc(dkimKeys.selector));
  let rows = await read();
  const pending = rows.filter((r) => r.state === "pending");
  if (deps.lookupTxt && pending.length > 0 && (await activatePublished(deps.db, deps.lookupTxt, pending, (deps.now ?? Date.now)())).length > 0) rows = await read();
  return rows.map(view);
}

export async function removeDkimKey(deps: DkimAdminDeps, domainArg: string, selector: string): Promise<void> {
  const domain = signingDomain(domainArg);
  const gone = await deps.db
    .delete(dkimKeys)
    .where(and(eq(dkimKeys.domain, domain), eq(dkimKeys.selector, selector.toLowerCase())))
    .returning({ id: dkimKeys.id });
  if (gone.length === 0) throw new Failure("not-found", `no DKIM selector "${selector}" for ${domain}`);
}
