/** SASL PLAIN (RFC 4616) and LOGIN decoding for SMTP AUTH (RFC 4954). */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 → UTF-8 text; null when either layer is malformed. */
export function decodeBase64Text(s: string): string | null {
  if (!BASE64.test(s)) return null;
  const binary = atob(s);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

export function encodeBase64Text(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** message = [authzid] UTF8NUL authcid UTF8NUL passwd */
export function parsePlain(decoded: string): { authzid: string; username: string; password: string } | null {
  const parts = decoded.split("\0");
  if (parts.length !== 3) return null;
  const [authzid, username, password] = parts as [string, string, string];
  if (username.length === 0) return null;
  return { authzid, username, password };
}
