/**
 * HTTP API keys: "sh_<id>_<secret>", 256 random bits of secret. The id is visible (for
 * listing and lookup); only the SHA-256 of the whole key is stored, and the key is shown once.
 */
import { base64url } from "../util/bytes.ts";
import { constantTimeEqual } from "./passwords.ts";

export interface NewApiKey {
  id: string;
  key: string;
  hash: string;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
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
