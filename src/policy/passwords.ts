/**
 * SMTP passwords: argon2id, stored in the PHC string format ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
 * Computed by hash-wasm (WebAssembly) where the runtime may compile WebAssembly; on Workers,
 * which refuse WebAssembly compiled at run time, by the same module bundled already compiled
 * (useArgon2Module, ~20× faster than JavaScript there); else by @noble/hashes (plain
 * JavaScript). All give the same bytes, so a hash made on one runtime verifies on every other.
 * Parameters: OWASP's argon2id minimum (19 MiB, t=2, p=1).
 */
import { argon2id as argon2Wasm } from "hash-wasm";
import { argon2id as argon2Js } from "@noble/hashes/argon2.js";
import { argon2idOnModule } from "./argon2-module.ts";
import { base64ToBytes, bytesToBase64, equalBytes } from "../util/bytes.ts";

interface Params {
  m: number;
  t: number;
  p: number;
}
const PARAMS: Params = { m: 19456, t: 2, p: 1 };
const HASH_LENGTH = 32;

let wasmWorks: boolean | null = null;
let bundled: WebAssembly.Module | null = null;

/** The argon2 module a bundle brought already compiled (src/runtime/workers-argon2.ts); null goes back to the default. */
export function useArgon2Module(module: WebAssembly.Module | null): void {
  bundled = module;
}

async function argon2(password: string, salt: Uint8Array, params: Params, length: number): Promise<Uint8Array> {
  if (bundled) return argon2idOnModule(bundled, new TextEncoder().encode(password), salt, params, length);
  if (wasmWorks !== false) {
    try {
      const out = await argon2Wasm({ password, salt, iterations: params.t, memorySize: params.m, parallelism: params.p, hashLength: length, outputType: "binary" });
      wasmWorks = true;
      return out;
    } catch (err) {
      if (wasmWorks) throw err;
      wasmWorks = false;
    }
  }
  return argon2Js(password, salt, { t: params.t, m: params.m, p: params.p, dkLen: length });
}

// PHC strings carry base64 without padding.
const b64 = (bytes: Uint8Array) => bytesToBase64(bytes).replace(/=+$/, "");

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await argon2(password, salt, PARAMS, HASH_LENGTH);
  return `$argon2id$v=19$m=${PARAMS.m},t=${PARAMS.t},p=${PARAMS.p}$${b64(salt)}$${b64(hash)}`;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(encoded);
  if (!m) return false;
  const expected = base64ToBytes(m[5]!);
  const actual = await argon2(password, base64ToBytes(m[4]!), { m: Number(m[1]), t: Number(m[2]), p: Number(m[3]) }, expected.length);
  return equalBytes(actual, expected);
}

let dummy: Promise<string> | null = null;

/** Spends the same time as a real check, for unknown users: timing must not reveal who exists. */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummy ??= hashPassword("not-a-real-password");
  await verifyPassword(password, await dummy);
  return false;
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const PASSWORD_LENGTH = 32;

/**
 * A generated password: 32 letters and digits drawn uniformly (190 bits). Letters and
 * digits only: a password that starts with "-" is taken for an option by the tools it is
 * handed to (`swaks --auth-password -x…`), and "_" or "-" are picked apart by some forms.
 */
export function generatePassword(): string {
  let out = "";
  while (out.length < PASSWORD_LENGTH) {
    for (const b of crypto.getRandomValues(new Uint8Array(PASSWORD_LENGTH))) {
      // 248 = 4 × 62: bytes above it are dropped so that every character is equally likely.
      if (b < 248 && out.length < PASSWORD_LENGTH) out += ALPHANUMERIC[b % 62];
    }
  }
  return out;
}
