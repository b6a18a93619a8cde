/**
 * The dashboard's session: a cookie signed with HMAC-SHA256 (WebCrypto, so the same on Bun
 * and Workers), and a row in dashboard_sessions (the shared libSQL, so every node sees it)
 * that logging out deletes: a copy of the cookie taken before logout opens nothing after.
 * The key is derived from SMARTHOST_ADMIN_TOKEN, and each row keeps a fingerprint of the
 * token that opened it: changing the token ends every session.
 *
 * Value: `<expires ms>.<nonce>.<signature>`. The row is keyed by the SHA-256 of the nonce,
 * so the table alone gives no cookie. The CSRF token of a session is an HMAC of its nonce
 * under the same key, so a form can only be posted by a page that session rendered (the
 * synchronizer-token pattern; OWASP CSRF cheat sheet).
 */
import type { Sql } from "../db/raw.ts";
import { base64url } from "../util/bytes.ts";
import { sha256Hex } from "../util/hash.ts";

export const SESSION_COOKIE = "smarthost_dashboard";
export const SESSION_TTL_MS = 8 * 3600_000;

export interface Session {
  expires: number;
  nonce: string;
  csrf: string;
}

const rowId = (nonce: string) => sha256Hex(`smarthost dashboard session id\0${nonce}`);

export class SessionKeys {
  private readonly key: Promise<CryptoKey>;
  private readonly token: Promise<string>;

  /** `sql`: the database (per request on Workers, so a getter). */
  constructor(
    adminToken: string,
    private readonly sql: () => Sql,
  ) {
    const enc = new TextEncoder();
    this.key = crypto.subtle
      .digest("SHA-256", enc.encode(`smarthost dashboard session\0${adminToken}`))
      .then((raw) => crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]));
    this.token = sha256Hex(`smarthost dashboard token\0${adminToken}`);
  }

  private async mac(text: string): Promise<string> {
    return base64url(new Uint8Array(await crypto.subtle.sign("HMAC", await this.key, new TextEncoder().encode(text))));
  }

  /** A new session's cookie value, good until `now + SESSION_TTL_MS`. */
  async issue(now: number): Promise<{ value: string; session: Session }> {
    const nonce = base64url(crypto.getRandomValues(new Uint8Array(18)));
    const expires = now + SESSION_TTL_MS;
    const body = `${expires}.${nonce}`;
    // Rows of ended sessions go here too, not only in the housekeeping (which Workers run less often).
    await this.sql().execute({ sql: "DELETE FROM dashboard_sessions WHERE expires_at <= ?", args: [now] });
    await this.sql().execute({ sql: "INSERT INTO dashboard_sessions (id, token, created_at, expires_at) VALUES (?, ?, ?, ?)", args: [await rowId(nonce), await this.token, now, expires] });
    return { value: `${body}.${await this.mac(`session:${body}`)}`, session: { expires, nonce, csrf: await this.mac(`csrf:${nonce}`) } };
  }

  /** The session a cookie value stands for, or null (forged, altered, expired, malformed). */
  async read(value: string | undefined, now: number): Promise<Session | null> {
    const m = /^(\d{1,16})\.([A-Za-z0-9_-]{24})\.([A-Za-z0-9_-]{43})$/.exec(value ?? "");
    if (!m) return null;
    const [, exp, nonce, sig] = m as unknown as [string, string, string, string];
    // crypto.subtle.verify compares in constant time.
    const ok = await crypto.subtle.verify("HMAC", await this.key, base64urlBytes(sig), new TextEncoder().encode(`session:${exp}.${nonce}`));
    if (!ok || Number(exp) <= now) return null;
    const live = await this.sql().execute({ sql: "SELECT 1 AS live FROM dashboard_sessions WHERE id = ? AND token = ? AND expires_at > ?", args: [await rowId(nonce), await this.token, now] });
    if (live.rows.length === 0) return null; // logged out, or opened with another admin token
    return { expires: Number(exp), nonce, csrf: await this.mac(`csrf:${nonce}`) };
  }

  /** Logout: the session ends on every node, whoever still holds its cookie. */
  async end(session: Session): Promise<void> {
    await this.sql().execute({ sql: "DELETE FROM dashboard_sessions WHERE id = ?", args: [await rowId(session.nonce)] });
  }

  /** Whether `given` is this session's CSRF token (compared in constant time). */
  async csrfOk(session: Session, given: string | undefined): Promise<boolean> {
    if (!given || !/^[A-Za-z0-9_-]{43}$/.test(given)) return false;
    return crypto.subtle.verify("HMAC", await this.key, base64urlBytes(given), new TextEncoder().encode(`csrf:${session.nonce}`));
  }
}

function base64urlBytes(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}
