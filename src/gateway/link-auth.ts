/**
 * Authenticity of the ingress → gateway link, on WebCrypto only (Bun, Deno, Workers).
 *
 * Both ends hold SMARTHOST_GATEWAY_TOKEN, which never travels: each request carries an
 * HMAC-SHA256 over its method, path, timestamp, a random nonce and the SHA-256 of its
 * body, keyed by a key derived from the token (HKDF, RFC 5869). The gateway refuses a
 * request whose timestamp is outside a short window, and one whose signature it has
 * already seen within that window — so a captured request cannot be sent again, and a
 * redirect or a proxy that logs requests learns nothing it can reuse.
 *
 * The gateway signs each answer too, over the request's signature, the status and the
 * body: the ingress believes only an answer made for the request it sent, by a holder of
 * the token — not one from a server it was sent to by mistake, nor an old one replayed.
 */
import { base64url, equalBytes } from "../util/bytes.ts";

export const TIMESTAMP_HEADER = "x-smarthost-timestamp";
export const NONCE_HEADER = "x-smarthost-nonce";
export const SIGNATURE_HEADER = "x-smarthost-signature";

/** How far a request's clock may be from the gateway's, either way. */
export const WINDOW_SECONDS = 60;

const encoder = new TextEncoder();

export interface LinkKeys {
  /** Signs and verifies requests. */
  readonly request: CryptoKey;
  /** Signs and verifies the principals the gateway issues (grants.ts). */
  readonly grant: CryptoKey;
  /** Signs and verifies the gateway's answers. */
  readonly response: CryptoKey;
}

/** Two independent keys from the shared token: a signature of one kind never verifies as the other. */
export async function deriveLinkKeys(token: string): Promise<LinkKeys> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(token), "HKDF", false, ["deriveKey"]);
  const derive = (info: string) =>
    crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: encoder.encode("smarthost gateway link"), info: encoder.encode(info) },
      base,
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["sign", "verify"],
    );
  return { request: await derive("request signature v1"), grant: await derive("principal grant v1"), response: await derive("response signature v1") };
}

export async function hmac(key: CryptoKey, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
}

async function sha256(bytes: Uint8Array): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes))));
}

const canonical = async (method: string, path: string, timestamp: string, nonce: string, body: Uint8Array) =>
  `${method.toUpperCase()}\n${path}\n${timestamp}\n${nonce}\n${await sha256(body)}`;

/** The headers that authenticate one request. `path` is the handoff path, e.g. /internal/smtp/auth. */
export async function signRequest(key: CryptoKey, method: string, path: string, body: Uint8Array, nowMs = Date.now()): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const signature = base64url(await hmac(key, await canonical(method, path, timestamp, nonce, body)));
  return { [TIMESTAMP_HEADER]: timestamp, [NONCE_HEADER]: nonce, [SIGNATURE_HEADER]: signature };
}

export type RequestCheck = { ok: true } | { ok: false; code: "unsigned" | "bad_signature" | "stale_request" | "replayed_request"; message: string };

/**
 * Remembers the signatures seen within the window. In memory, so it guards one process
 * (one gateway node, one Workers isolate): a replay sent to another node within the
 * window is not caught here.
 */
export class ReplayGuard {
  // Insertion order is close to timestamp order, so expired entries sit at the front.
  private readonly seen = new Map<string, number>();

  /** False when `signature` was seen before; remembers it until `expiresAt` (seconds). */
  admit(signature: string, expiresAt: number, nowSeconds: number): boolean {
    for (const [sig, exp] of this.seen) {
      if (exp >= nowSeconds) break;
      this.seen.delete(sig);
    }
    if (this.seen.has(signature)) return false;
    this.seen.set(signature, expiresAt);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}

export async function verifyRequest(
  key: CryptoKey,
  guard: ReplayGuard,
  req: { method: string; path: string; headers: (name: string) => string | undefined; body: Uint8Array },
  nowMs = Date.now(),
): Promise<RequestCheck> {
  const timestamp = req.headers(TIMESTAMP_HEADER);
  const nonce = req.headers(NONCE_HEADER);
  const signature = req.headers(SIGNATURE_HEADER);
  if (!timestamp || !nonce || !signature) return { ok: false, code: "unsigned", message: "Request is not signed" };
  if (!/^\d{1,12}$/.test(timestamp) || !/^[\w-]{16,64}$/.test(nonce)) return { ok: false, code: "bad_signature", message: "Bad signature headers" };
  const expected = await hmac(key, await canonical(req.method, req.path, timestamp, nonce, req.body));
  if (!equalBytes(encoder.encode(base64url(expected)), encoder.encode(signature))) return { ok: false, code: "bad_signature", message: "Bad request signature" };
  const now = Math.floor(nowMs / 1000);
  const ts = Number(timestamp);
  if (Math.abs(now - ts) > WINDOW_SECONDS) return { ok: false, code: "stale_request", message: `Request timestamp is more than ${WINDOW_SECONDS} seconds off` };
  if (!guard.admit(signature, ts + WINDOW_SECONDS, now)) return { ok: false, code: "replayed_request", message: "Request was already received" };
  return { ok: true };
}

const responseText = async (requestSignature: string, status: number, body: Uint8Array) => `${requestSignature}\n${status}\n${await sha256(body)}`;

/** The signature header value of an answer to the request that carried `requestSignature`. */
export async function signResponse(key: CryptoKey, requestSignature: string, status: number, body: Uint8Array): Promise<string> {
  return base64url(await hmac(key, await responseText(requestSignature, status, body)));
}

export async function verifyResponse(key: CryptoKey, requestSignature: string, status: number, body: Uint8Array, presented: string | null): Promise<boolean> {
  if (!presented) return false;
  return equalBytes(encoder.encode(await signResponse(key, requestSignature, status, body)), encoder.encode(presented));
}
