/**
 * HTTP API keys: "sh_<id>_<secret>", 256 random bits of secret. The id is visible (for
 * listing and lookup); only the SHA-256 of the whole key is stored, and the key is shown once.
 */
import { base64url, constantTimeEqual } from "../util/bytes.ts";
import { sha256Hex } from "../util/hash.ts";

export interface NewApiKey {
  id: string;
  key: string;
  hash: string;
}

export async function generateApiKey(): Promise<NewApiKey> {
  const id = base64url(crypto.getRandomValues(new Uint8Array(6))).replace(/[-_]/g, "x");
  const key = `sh_${id}_${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
  return { id, key, hash: await sha256Hex(key) };
}

/** The id part of a presented key, or null when it is not of our form. */
export function apiKeyId(key: string): string | null {
  const m = /^sh_([A-Za-z0-9]{8})_[A-Za-z0-9_-]{43}$/.exec(key);
  return m ? m[1]! : null;
}

export async function apiKeyMatches(key: string, storedHash: string): Promise<boolean> {
  return constantTimeEqual(await sha256Hex(key), storedHash);
}
