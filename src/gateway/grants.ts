/**
 * The principal an ingress-only node carries for a session, as the gateway issued it at
 * AUTH or at identify: the account, the username and how it was obtained, bound to the
 * session id and the client address, with an expiry, signed with a key derived from the
 * gateway token. The gateway trusts only what a valid grant says — never an account id
 * the ingress sends beside it — so holding the token does not let one act as an account.
 *
 * Form: base64url(JSON claims) "." base64url(HMAC-SHA256(grant key, first part)).
 */
import * as v from "valibot";
import { base64ToBytes, base64url, equalBytes } from "../util/bytes.ts";
import type { Principal } from "../smtp/handler.ts";
import { hmac } from "./link-auth.ts";

/** A grant lives this long; past half of it the gateway hands back a fresh one. */
export const GRANT_LIFETIME_MS = 60 * 60 * 1000;

const Claims = v.object({
  v: v.literal(1),
  sid: v.string(),
  ip: v.string(),
  user: v.string(),
  acct: v.string(),
  via: v.picklist(["auth", "network"]),
  exp: v.number(),
});
type Claims = v.InferOutput<typeof Claims>;

export interface GrantSubject {
  sessionId: string;
  remoteAddress: string;
  principal: Principal;
  via: "auth" | "network";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function issueGrant(key: CryptoKey, s: GrantSubject, nowMs = Date.now()): Promise<string> {
  const claims: Claims = { v: 1, sid: s.sessionId, ip: s.remoteAddress, user: s.principal.username, acct: s.principal.accountId, via: s.via, exp: nowMs + GRANT_LIFETIME_MS };
  const body = base64url(encoder.encode(JSON.stringify(claims)));
  return `${body}.${base64url(await hmac(key, body))}`;
}

export type GrantCheck =
  | { ok: true; principal: Principal; via: "auth" | "network"; renew: boolean }
  | { ok: false; reason: "invalid" | "other-session" | "expired" };

const fromBase64url = (s: string) => base64ToBytes(s.replace(/-/g, "+").replace(/_/g, "/"));

/** Checks a grant against the session presenting it. */
export async function verifyGrant(key: CryptoKey, grant: string, session: { sessionId: string; remoteAddress: string }, nowMs = Date.now()): Promise<GrantCheck> {
  const m = /^([\w-]{1,2048})\.([\w-]{43})$/.exec(grant);
  if (!m) return { ok: false, reason: "invalid" };
  const [, body, mac] = m as unknown as [string, string, string];
  if (!equalBytes(encoder.encode(base64url(await hmac(key, body))), encoder.encode(mac))) return { ok: false, reason: "invalid" };
  let claims: Claims;
  try {
    claims = v.parse(Claims, JSON.parse(decoder.decode(fromBase64url(body))));
  } catch {
    return { ok: false, reason: "invalid" };
  }
  if (claims.sid !== session.sessionId || claims.ip !== session.remoteAddress) return { ok: false, reason: "other-session" };
  if (claims.exp <= nowMs) return { ok: false, reason: "expired" };
  return { ok: true, principal: { username: claims.user, accountId: claims.acct }, via: claims.via, renew: claims.exp - nowMs < GRANT_LIFETIME_MS / 2 };
}
