/**
 * HTTP API keys: "sh_<id>_<secret>", 256 random bits of secret. The id is visible (for
 * listing and lookup); only the SHA-256 of the whole key is stored, and the key is shown once.
 */
// node:crypto's createHash is on Bun, Deno and Workers (nodejs_compat): the digest of a
// 56-character key takes well under a µs there, where WebCrypto's asynchronous digest costs
// several µs and a promise per request.
import { createHash } from "node:crypto";
import { base64url, constantTimeEqual } from "../util/bytes.ts";

export interface NewApiKey {
  id: string;
  key: string;
  hash: string;
}

/** SHA-256 of the whole key, lower-case hex: what api_keys.key_hash holds. */
export const apiKeyHash = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex");

export async function generateApiKey(): Promise<NewApiKey> {
  const id = base64url(crypto.getRandomValues(new Uint8Array(6))).replace(/[-_]/g, "x");
  const key = `sh_${id}_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
  return { id, key, hash: apiKeyHash(key) };
}

/** The id part of a presented key, or null when it is not of our form. */
export function apiKeyId(key: string): string | null {
  const m = /^sh_([A-Za-z0-9]{8})_[A-Za-z0-9_-]{43}$/.exec(key);
  return m ? m[1]! : null;
}

export function apiKeyMatches(key: string, storedHash: string): boolean {
  return constantTimeEqual(apiKeyHash(key), storedHash);
}
