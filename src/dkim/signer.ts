/**
 * Signs accepted messages with the active DKIM keys of their From: domain (or the nearest
 * parent domain that has keys). Called once at acceptance, so the stored bytes are what
 * goes out and a retry sends the same signature.
 *
 * Keys are opened and imported once per key and kept; which keys a domain has is re-read
 * every few seconds, so add/rotate/remove take effect without a restart.
 *
 * With a pool (src/runtime/dkim-pool.ts on Bun) the signatures are made on another thread
 * while this one goes on accepting; the caller still commits only the signed bytes, so a
 * 250 is never given for a message whose signing failed.
 */
import type { Db } from "../db/client.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import { CachedMap } from "../util/cached.ts";
import { importSigningKey } from "./keys.ts";
import { prependSignatures, signMessage, type SigningKey } from "./sign.ts";
import type { PoolKey, SignaturePool } from "./sign-jobs.ts";
import { activatePublished, liveKeysFor, sealPurpose, signingCandidates, type DkimKeyRow, type TxtLookup } from "./store.ts";
import { Failure } from "../core/failure.ts";
import { errorFields, type Logger } from "../core/log.ts";

const KEYS_CACHE_MS = 5_000;
// A pending selector's DNS record is looked for at most this often per key.
const PENDING_CHECK_MS = 60_000;

export interface MessageSigner {
  /** The message with DKIM-Signature fields prepended, or as given when no key applies. */
  sign(raw: Uint8Array, headerFrom: string[]): Promise<Uint8Array>;
  /** The domain (d=) that signs mail from `fromDomain` now, or null when no active key applies. */
  signingDomain(fromDomain: string): Promise<string | null>;
}

export interface DkimSignerDeps {
  db: Db;
  /** Opens the sealed private keys (SMARTHOST_SECRET_KEY). */
  secrets: SecretBox | Promise<SecretBox>;
  /** When given, a pending selector starts signing once its record is published. */
  lookupTxt?: TxtLookup;
  now?: () => number;
  /** Signing threads; without one, signing runs on the calling thread (Workers, Deno). */
  pool?: SignaturePool;
  /** Where a failed background activation is told. */
  log?: Logger;
}

// Sending unsigned would fail DMARC at the receiver; the client retries instead.
// The cause is kept: the gateway logs it once with its stack (gateway/errors.ts reportFailure).
const unavailable = (what: string, cause: unknown) => new Failure("temporary", `DKIM ${what}, try again later`, { code: "dkim_unavailable", reason: what, cause });

export function createDkimSigner(deps: DkimSignerDeps): MessageSigner {
  const now = deps.now ?? Date.now;
  const imported = new Map<string, Promise<CryptoKey>>();
  const opened = new Map<string, Promise<string>>();
  const pendingCheckedAt = new Map<string, number>();

  /** Opened and kept once per key (memory only); a failure is not kept, the next message tries again. */
  const once = <T>(cache: Map<string, Promise<T>>, row: DkimKeyRow, make: () => Promise<T>): Promise<T> => {
    let v = cache.get(row.id);
    if (!v) {
      v = make();
      v.catch(() => cache.delete(row.id));
      cache.set(row.id, v);
    }
    return v;
  };
  const openPem = (row: DkimKeyRow) => Promise.resolve(deps.secrets).then((box) => box.open(row.privateKey, sealPurpose(row.domain, row.selector)));
  // Inline, only the non-extractable CryptoKey is kept; a pool needs the PEM to hand to a new thread.
  const keyOf = (row: DkimKeyRow) => once(imported, row, () => openPem(row).then((pem) => importSigningKey(row.algorithm, pem)));
  const pemOf = (row: DkimKeyRow) => once(opened, row, () => openPem(row));

  const poolSign = async (pool: SignaturePool, raw: Uint8Array, rows: DkimKeyRow[]): Promise<Uint8Array> => {
    let keys: PoolKey[];
    try {
      keys = await Promise.all(rows.map(async (r) => ({ id: r.id, domain: r.domain, selector: r.selector, algorithm: r.algorithm, pem: await pemOf(r) })));
    } catch (err) {
      throw unavailable("signing key unavailable", err);
    }
    try {
      return prependSignatures(raw, await pool.signatures(raw, keys, new Date(now())));
    } catch (err) {
      // A signing thread that died or failed: nothing is committed for this message.
      throw unavailable("signing failed", err);
    }
  };

  const activeRows = new CachedMap(KEYS_CACHE_MS, async (domain: string): Promise<DkimKeyRow[]> => {
    const candidates = signingCandidates(domain);
    const rows = await liveKeysFor(deps.db, candidates);
    const t = now();
    const due = rows.filter((r) => r.state === "pending" && t - (pendingCheckedAt.get(r.id) ?? -Infinity) >= PENDING_CHECK_MS);
    if (deps.lookupTxt && due.length > 0) {
      for (const r of due) pendingCheckedAt.set(r.id, t);
      // In the background: a slow or dead resolver never holds up an acceptance. A key
      // activated here signs from the next reload of this list.
      void activatePublished(deps.db, deps.lookupTxt, due, t).catch((err) => deps.log?.("dkim_activation_failed", { domain, error: errorFields(err) }));
    }
    // The most specific domain with an active key signs; its parents do not sign as well.
    for (const d of candidates) {
      const own = rows.filter((r) => r.domain === d && r.state === "active");
      // RSA on top: a verifier that looks at the first signature only knows RSA (RFC 8463 is newer).
      if (own.length > 0) return own.sort((a, b) => b.algorithm.localeCompare(a.algorithm));
    }
    return [];
  });

  return {
    async sign(raw, headerFrom) {
      const from = headerFrom[0];
      const at = from?.lastIndexOf("@") ?? -1;
      if (!from || at < 0) return raw;
      const rows = await activeRows.get(from.slice(at + 1).toLowerCase(), now());
      if (rows.length === 0) return raw;
      if (deps.pool) return poolSign(deps.pool, raw, rows);
      let keys: SigningKey[];
      try {
        keys = await Promise.all(rows.map(async (r) => ({ domain: r.domain, selector: r.selector, algorithm: r.algorithm, key: await keyOf(r) })));
      } catch (err) {
        throw unavailable("signing key unavailable", err);
      }
      return signMessage(raw, keys, new Date(now()));
    },
    // The same cached list sign() reads: what is judged is what will sign.
    async signingDomain(fromDomain) {
      return (await activeRows.get(fromDomain.toLowerCase(), now()))[0]?.domain ?? null;
    },
  };
}
