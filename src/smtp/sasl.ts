/** SASL PLAIN (RFC 4616) and LOGIN decoding for SMTP AUTH (RFC 4954). */
import { BASE64, base64ToBytes, bytesToBase64 } from "../util/bytes.ts";

/** Strict base64 → UTF-8 text; null when either layer is malformed. */
export function decodeBase64Text(s: string): string | null {
  if (!BASE64.test(s)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(base64ToBytes(s));
  } catch {
    return null;
  }
}

export function encodeBase64Text(s: string): string {
  return bytesToBase64(new TextEncoder().encode(s));
}

/** message = [authzid] UTF8NUL authcid UTF8NUL passwd */
export function parsePlain(decoded: string): { authzid: string; username: string; password: string } | null {
  const parts = decoded.split("\0");
  if (parts.length !== 3) return null;
  const [authzid, username, password] = parts as [string, string, string];
  if (username.length === 0) return null;
  return { authzid, username, password };
}

export type SaslStep =
  | { kind: "challenge"; text: string }
  | { kind: "done"; mechanism: "PLAIN" | "LOGIN"; authzid: string; username: string; password: string }
  | { kind: "cancelled" }
  /** Not base64, or not UTF-8 once decoded. */
  | { kind: "malformed" }
  /** Valid base64 whose content is not `[authzid] NUL authcid NUL passwd` (RFC 4616 §2). */
  | { kind: "malformed-plain" };

/** One AUTH exchange (PLAIN or LOGIN) as a small state machine over the client's lines. */
export class SaslExchange {
  private username: string | null = null;

  private constructor(readonly mechanism: "PLAIN" | "LOGIN") {}

  /** Null for a mechanism we do not offer. */
  static open(name: string): SaslExchange | null {
    const m = name.toUpperCase();
    return m === "PLAIN" || m === "LOGIN" ? new SaslExchange(m) : null;
  }

  /** The first step: a challenge, or the initial response from the AUTH line (RFC 4954 §4; "=" is empty). */
  begin(initial: string | undefined): SaslStep {
    if (initial === undefined) return { kind: "challenge", text: this.mechanism === "PLAIN" ? "" : "Username:" };
    return this.respond(this.mechanism === "PLAIN" && initial === "=" ? "" : initial);
  }

  respond(line: string): SaslStep {
    if (line === "*") return { kind: "cancelled" };
    const decoded = decodeBase64Text(line);
    if (decoded === null) return { kind: "malformed" };
    if (this.mechanism === "LOGIN") {
      if (this.username === null) {
        this.username = decoded;
        return { kind: "challenge", text: "Password:" };
      }
      return { kind: "done", mechanism: "LOGIN", authzid: "", username: this.username, password: decoded };
    }
    const plain = parsePlain(decoded);
    return plain ? { kind: "done", mechanism: "PLAIN", ...plain } : { kind: "malformed-plain" };
  }
}
