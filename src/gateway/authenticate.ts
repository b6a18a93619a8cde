/**
 * Who is sending: SMTP credentials (with the AUTH throttle and the verified-password
 * cache), trusted networks, and HTTP API keys. Every refusal is a Failure the adapters map.
 */
import { Failure } from "../core/failure.ts";
import type { Db } from "../db/client.ts";
import type { SqlDatabase } from "../db/raw.ts";
import { trustedNetworks } from "../db/schema.ts";
import { apiKeyId, apiKeyMatches } from "../policy/api-keys.ts";
import { cleanRecord, finishAttempt, normalizeUser, releaseAttempt, reserveAttempt, THROTTLE, throttleKeys, type ThrottleKeys } from "../policy/auth-throttle.ts";
import { credentialRow } from "../policy/credential-row.ts";
import { matchNetwork } from "../policy/networks.ts";
import { verifyAgainstDummy, verifyPassword } from "../policy/passwords.ts";
import { cachedPasswordCheck } from "../policy/verified-cache.ts";
import type { Principal } from "../smtp/handler.ts";
import { Cached, CachedMap } from "../util/cached.ts";
import { ApiKeyRows } from "./api-key-rows.ts";
import type { Metrics } from "./metrics.ts";

// Trusted networks change rarely; a change takes effect within this.
const NETWORKS_CACHE_MS = 5_000;

export interface AuthenticatorDeps {
  db: Db;
  sql: SqlDatabase;
  metrics: Metrics;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** The password check (tests count the calls); policy/passwords.ts by default. */
  verifyPassword?: (password: string, hash: string) => Promise<boolean>;
  /** > 0 on a remote database: key and credential rows are reused that long (db/client.ts REMOTE_READ_CACHE_MS). */
  readCacheMs?: number;
}

export interface ApiCaller {
  accountId: string;
  /** The key's public id (the `sh_<id>_` part), never the secret: named in the Received: field of what it submits. */
  keyId: string;
  suppressionsListed: boolean;
}

export class Authenticator {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly db: Db;
  // Read on every connection, changed rarely: a few seconds of staleness is fine.
  private readonly networks = new Cached(NETWORKS_CACHE_MS, () => this.db.select().from(trustedNetworks));
  // Read per request so a revoked key is refused at once (or within readCacheMs on a remote
  // database); the presented key is hashed and compared every time.
  private readonly apiKeyRows: ApiKeyRows;
  // For a password verified minutes ago only: a full check always reads the row.
  private readonly credentials: CachedMap<string, Awaited<ReturnType<typeof credentialRow>>>;

  constructor(private readonly deps: AuthenticatorDeps) {
    this.now = deps.now ?? Date.now;
    this.sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.db = deps.db;
    this.apiKeyRows = new ApiKeyRows(deps.sql, () => this.db, deps.readCacheMs ?? 0, this.now);
    this.credentials = new CachedMap(deps.readCacheMs ?? 0, (username: string) => credentialRow(deps.sql, username));
  }

  /**
   * SMTP AUTH. The attempt is counted (per user and address, per address, per user) before
   * any hashing, so parallel guesses cannot outrun the limit; see policy/auth-throttle.ts.
   */
  async authenticateSmtp(remoteIp: string, username: string, password: string, authzid: string): Promise<Principal> {
    const keys = throttleKeys(remoteIp, username);
    const known = await this.recentlyVerified(keys, username, password, authzid);
    if (known) return known;
    let reserved = await reserveAttempt(this.db, keys, this.now());
    for (let i = 0; !reserved.ok && reserved.busy && i < THROTTLE.busyWaits; i++) {
      await this.sleep(THROTTLE.busyWaitMs);
      reserved = await reserveAttempt(this.db, keys, this.now());
    }
    if (!reserved.ok) {
      this.deps.metrics.rejected("auth_throttled");
      throw new Failure("auth-throttled", "Too many authentication failures", { retryAfterSeconds: reserved.retryAfterSeconds });
    }
    let checked: boolean | null = null;
    try {
      if (reserved.delayMs > 0) await this.sleep(reserved.delayMs);
      const principal = await this.checkCredentials(username, password, authzid);
      checked = principal !== null;
      if (!principal) {
        this.deps.metrics.rejected("auth_failed");
        throw new Failure("unauthenticated", "Authentication credentials invalid");
      }
      return principal;
    } finally {
      // A check that could not finish (storage) counts as neither success nor failure.
      await (checked === null ? releaseAttempt(this.db, keys) : finishAttempt(this.db, keys, checked, this.now()));
    }
  }

  /**
   * The same password verified against the same stored hash minutes ago (verified-cache.ts),
   * for a user and pair with no failure counted and nothing blocked: accepted without
   * reserving an attempt, so a pooled client opening many sessions at once is not held back
   * as a guesser would be. A wrong password is never known, so guessing takes the counted way.
   */
  private async recentlyVerified(keys: ThrottleKeys, username: string, password: string, authzid: string): Promise<Principal | null> {
    if (this.deps.verifyPassword) return null;
    if (authzid !== "" && normalizeUser(authzid) !== normalizeUser(username)) return null;
    if (!(await cleanRecord(this.deps.sql, keys, this.now()))) return null;
    const row = await this.credentials.get(username, this.now());
    if (!row || !(await this.cachedVerify.known(password, row.hash))) return null;
    return { username: row.username, accountId: row.accountId };
  }

  private async checkCredentials(username: string, password: string, authzid: string): Promise<Principal | null> {
    const row = await credentialRow(this.deps.sql, username);
    const ok = row ? await this.verify(password, row.hash) : await verifyAgainstDummy(password);
    // RFC 4616: acting as another identity is not something a relay credential may do.
    if (!ok || !row || (authzid !== "" && normalizeUser(authzid) !== normalizeUser(username))) return null;
    return { username: row.username, accountId: row.accountId };
  }

  // A client that AUTHs on every new session pays argon2id once per few minutes (verified-cache.ts).
  private readonly cachedVerify = cachedPasswordCheck(verifyPassword);

  private verify(password: string, hash: string): Promise<boolean> {
    return (this.deps.verifyPassword ?? this.cachedVerify)(password, hash);
  }

  /** A client connecting from a trusted network sends as that network's account. */
  async identifyNetwork(ip: string): Promise<Principal | null> {
    const networks = await this.networks.get(this.now());
    const hit = matchNetwork(networks, ip);
    return hit ? { username: `network ${hit.cidr}`, accountId: hit.accountId } : null;
  }

  /** HTTP `Authorization: Bearer KEY`; returns the account id. */
  async authenticateApiKey(header: string | undefined): Promise<string> {
    return (await this.apiCaller(header)).accountId;
  }

  /** The account of an HTTP `Authorization: Bearer KEY`, and whether its suppression list had any entry as the key was read. */
  async apiCaller(header: string | undefined): Promise<ApiCaller> {
    const key = /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1];
    const id = key ? apiKeyId(key) : null;
    if (!key || !id) throw new Failure("unauthenticated", "Missing or malformed API key");
    const row = await this.apiKeyRows.get(id);
    if (!row || !apiKeyMatches(key, row.keyHash)) throw new Failure("unauthenticated", "Invalid API key");
    this.apiKeyRows.used(id, this.now());
    return { accountId: row.accountId, keyId: id, suppressionsListed: row.suppressionsListed };
  }
}
