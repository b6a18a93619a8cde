/**
 * DKIM key material on WebCrypto (the same code on Bun, Deno and Workers): making a key
 * pair, importing a stored private key for signing, and the DNS TXT record that publishes
 * the public half.
 */
import { base64ToBytes, bytesToBase64 } from "../util/bytes.ts";

export type DkimAlgorithm = "rsa" | "ed25519";

export interface GeneratedKey {
  /** PKCS#8, PEM armoured (what is sealed and stored). */
  privatePem: string;
  /** The p= value: base64 SubjectPublicKeyInfo for RSA (RFC 6376 §3.6.1), the raw 32-byte key for Ed25519 (RFC 8463 §4.2). */
  publicKey: string;
}

// RFC 8301 §3.2: signers MUST use RSA keys of at least 1024 bits and SHOULD use 2048.
const RSA_BITS = 2048;
const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const ED25519 = { name: "Ed25519" } as const;

const toPem = (der: ArrayBuffer): string => `-----BEGIN PRIVATE KEY-----\n${bytesToBase64(new Uint8Array(der)).replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END PRIVATE KEY-----\n`;

function fromPem(pem: string): Uint8Array<ArrayBuffer> {
  const b64 = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, "").replace(/\s+/g, "");
  return new Uint8Array(base64ToBytes(b64));
}

export async function generateDkimKey(algorithm: DkimAlgorithm): Promise<GeneratedKey> {
  const pair =
    algorithm === "rsa"
      ? await crypto.subtle.generateKey({ ...RSA, modulusLength: RSA_BITS, publicExponent: new Uint8Array([1, 0, 1]) }, true, ["sign", "verify"])
      : ((await crypto.subtle.generateKey(ED25519, true, ["sign", "verify"])) as CryptoKeyPair);
  const privatePem = toPem(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const publicDer = await crypto.subtle.exportKey(algorithm === "rsa" ? "spki" : "raw", pair.publicKey);
  return { privatePem, publicKey: bytesToBase64(new Uint8Array(publicDer)) };
}

/** A stored private key made usable for signing (done once per key, then kept). */
export function importSigningKey(algorithm: DkimAlgorithm, privatePem: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("pkcs8", fromPem(privatePem), algorithm === "rsa" ? RSA : ED25519, false, ["sign"]);
}

/** The `a=` tag of a signature made with this kind of key. */
export const signatureAlgorithm = (algorithm: DkimAlgorithm): string => (algorithm === "rsa" ? "rsa-sha256" : "ed25519-sha256");

/** Signs the canonicalized header data (RFC 6376 §3.7; for Ed25519 the SHA-256 of it, RFC 8463 §3). */
export async function signHeaderData(algorithm: DkimAlgorithm, key: CryptoKey, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  if (algorithm === "rsa") return new Uint8Array(await crypto.subtle.sign(RSA.name, key, data));
  const digest = await crypto.subtle.digest("SHA-256", data);
  return new Uint8Array(await crypto.subtle.sign(ED25519.name, key, digest));
}

/** The TXT record value: `v=DKIM1; k=rsa; p=…` (RFC 6376 §3.6.1). */
export const dkimRecordValue = (algorithm: DkimAlgorithm, publicKey: string): string => `v=DKIM1; k=${algorithm}; p=${publicKey}`;

/** The DNS owner name of a selector's record (RFC 6376 §3.6.2.1). */
export const dkimRecordName = (domain: string, selector: string): string => `${selector}._domainkey.${domain}`;

/**
 * The record as a zone-file line. A TXT character-string holds at most 255 octets
 * (RFC 1035 §3.3), so a 2048-bit key's value is split into several quoted strings, which
 * DKIM verifiers join back together (RFC 6376 §3.6.2.2).
 */
export function dkimZoneLine(domain: string, selector: string, algorithm: DkimAlgorithm, publicKey: string): string {
  return `${dkimRecordName(domain, selector)} IN TXT ${quotedStrings(dkimRecordValue(algorithm, publicKey))}`;
}

export function quotedStrings(value: string): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i += 255) parts.push(`"${value.slice(i, i + 255)}"`);
  return parts.join(" ");
}

/** The p= value of a published DKIM record, or null when it is not one (RFC 6376 §3.6.1). */
export function publishedKey(txt: string): { algorithm: string; publicKey: string } | null {
  const tags = new Map<string, string>();
  for (const part of txt.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, ""));
  }
  const v = tags.get("v");
  if (v !== undefined && v !== "DKIM1") return null;
  const p = tags.get("p");
  if (p === undefined) return null;
  return { algorithm: tags.get("k") ?? "rsa", publicKey: p };
}
