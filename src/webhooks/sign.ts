/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/): `v1,` + base64 of
 * HMAC-SHA256 over "id.timestamp.body", keyed by the base64 part of the `whsec_` secret.
 * Several secrets (during a rotation) give several signatures, space-separated. WebCrypto
 * only, so the Worker signs the same way as Bun.
 */
import { base64ToBytes, bytesToBase64 } from "../util/bytes.ts";

export const SECRET_PREFIX = "whsec_";
const encoder = new TextEncoder();

/** `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + bytesToBase64(crypto.getRandomValues(new Uint8Array(32)));
}

export async function signatureFor(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const raw = new Uint8Array(base64ToBytes(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestamp}.${body}`));
  return `v1,${bytesToBase64(new Uint8Array(mac))}`;
}

/** The `webhook-signature` header value: one signature per secret in force. */
export async function signatureHeader(secrets: string[], id: string, timestamp: number, body: string): Promise<string> {
  return (await Promise.all(secrets.map((s) => signatureFor(s, id, timestamp, body)))).join(" ");
}
