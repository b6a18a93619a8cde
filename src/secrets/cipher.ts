/**
 * Secrets at rest (route passwords, DKIM private keys, webhook secrets): AES-256-GCM with
 * SMARTHOST_SECRET_KEY, on WebCrypto so the same code runs on Bun, Deno and Workers.
 *
 * Sealed form: `enc:v1:` + base64(12-byte IV ‖ ciphertext ‖ 16-byte tag). Each value is
 * bound to what it is for (the `purpose`, used as additional data), so a sealed route
 * password copied into a DKIM key row does not open.
 */
import { base64ToBytes, BASE64, bytesToBase64 } from "../util/bytes.ts";
import { Failure } from "../core/failure.ts";

const PREFIX = "enc:v1:";
const IV_BYTES = 12;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });


export interface SecretBox {
  seal(plaintext: string, purpose: string): Promise<string>;
  open(sealed: string, purpose: string): Promise<string>;
  /** HMAC-SHA256 of `data` under a key derived for `purpose` alone (HKDF), never the sealing key itself. */
  mac(data: Uint8Array, purpose: string): Promise<Uint8Array>;
}

/** True for a value written by `seal` (so a migration can tell sealed from clear text). */
export const isSealed = (value: string): boolean => value.startsWith(PREFIX);

/** What is wrong with a key in the configured form (32 bytes, base64), or null when it is good. */
export function secretKeyProblem(b64: string): string | null {
  const s = b64.trim();
  if (!BASE64.test(s)) return "SMARTHOST_SECRET_KEY must be base64";
  const n = base64ToBytes(s).length;
  return n === 32 ? null : `SMARTHOST_SECRET_KEY must be 32 bytes (base64), not ${n}`;
}

/** Parses the configured key: 32 bytes, base64. */
export function parseSecretKey(b64: string): Uint8Array<ArrayBuffer> {
  const problem = secretKeyProblem(b64);
  if (problem) throw new Failure("config", problem, { code: "secret_key" });
  return new Uint8Array(base64ToBytes(b64.trim()));
}

/** A fresh key in the configured form (what `serve` writes under the data folder). */
export function generateSecretKey(): string {
  return bytesToBase64(crypto.getRandomValues(new Uint8Array(32)));
}

export async function createSecretBox(keyBase64: string): Promise<SecretBox> {
  const raw = parseSecretKey(keyBase64);
  const key = await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  const hkdf = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
  const macKeys = new Map<string, Promise<CryptoKey>>();
  // RFC 5869: one key per purpose, so a MAC made for one use never verifies for another.
  const macKey = (purpose: string) => {
    let k = macKeys.get(purpose);
    if (!k) {
      k = crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: encoder.encode(`smarthost-mac:${purpose}`) }, hkdf, { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]);
      macKeys.set(purpose, k);
    }
    return k;
  };
  return {
    async mac(data, purpose) {
      return new Uint8Array(await crypto.subtle.sign("HMAC", await macKey(purpose), data as Uint8Array<ArrayBuffer>));
    },
    async seal(plaintext, purpose) {
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const ct = new Uint8Array(
        await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(purpose) }, key, encoder.encode(plaintext)),
      );
      const out = new Uint8Array(IV_BYTES + ct.length);
      out.set(iv);
      out.set(ct, IV_BYTES);
      return PREFIX + bytesToBase64(out);
    },
    async open(sealed, purpose) {
      if (!isSealed(sealed)) throw new Failure("config", "not a sealed value", { code: "secret_key" });
      const bytes = new Uint8Array(base64ToBytes(sealed.slice(PREFIX.length)));
      if (bytes.length < IV_BYTES + 16) throw new Failure("config", "sealed value is truncated", { code: "secret_key" });
      try {
        const pt = await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES), additionalData: encoder.encode(purpose) },
          key,
          bytes.subarray(IV_BYTES),
        );
        return decoder.decode(pt);
      } catch {
        // Wrong key, wrong purpose or altered bytes: all look the same from here, on purpose.
        throw new Failure("config", "sealed value does not open with SMARTHOST_SECRET_KEY", { code: "secret_key" });
      }
    },
  };
}

/**
 * The box from a key that must be configured (Workers: no file system to keep a generated
 * one, and every node sharing the database needs the same key).
 */
export async function secretBoxFromRequiredKey(keyBase64: string | undefined, where: string): Promise<SecretBox> {
  if (!keyBase64) throw new Failure("config", `SMARTHOST_SECRET_KEY is required ${where} (32 bytes, base64; the same key as the nodes sharing the database): route passwords stay sealed and delivery stays off until it is set`, { code: "secret_key" });
  return createSecretBox(keyBase64);
}
