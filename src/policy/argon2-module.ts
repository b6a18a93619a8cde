/**
 * argon2 (RFC 9106) on hash-wasm's WebAssembly module, driven from a `WebAssembly.Module`
 * the caller already has: on Workers, the module the bundle imported (workerd refuses to
 * compile bytes at run time, but instantiates a bundled module).
 *
 * The module fills the memory blocks (nearly all of the cost); the short BLAKE2b steps
 * around it — H0, the first two blocks of each lane and the final tag (RFC 9106 §3.2,
 * §3.3) — are @noble/hashes. Same steps, same memory layout as hash-wasm's own argon2, so
 * the bytes equal hash-wasm's and @noble/hashes' argon2id.
 */
import { blake2b } from "@noble/hashes/blake2.js";

export interface Argon2Params {
  /** Memory in KiB. */
  m: number;
  t: number;
  p: number;
}

interface Argon2Exports {
  memory: WebAssembly.Memory;
  Hash_SetMemorySize(bytes: number): void;
  Hash_GetBuffer(): number;
  Hash_Calculate(length: number, initParam: number, digestParam: number): void;
}

const VERSION = 0x13;
const ARGON2ID = 2;

const le32 = (x: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, x, true);
  return b;
};

/** H' (RFC 9106 §3.3): a BLAKE2b-based hash of any length. */
function hashLong(input: Uint8Array, length: number): Uint8Array {
  if (length <= 64) return blake2b.create({ dkLen: length }).update(le32(length)).update(input).digest();
  const out = new Uint8Array(length);
  const r = Math.ceil(length / 32) - 2;
  let v = blake2b.create({ dkLen: 64 }).update(le32(length)).update(input).digest();
  out.set(v.subarray(0, 32), 0);
  for (let i = 1; i < r; i++) {
    v = blake2b(v, { dkLen: 64 });
    out.set(v.subarray(0, 32), i * 32);
  }
  out.set(blake2b(v, { dkLen: length - 32 * r }), r * 32);
  return out;
}

/** argon2id of the password with this salt, `length` bytes. */
export async function argon2idOnModule(module: WebAssembly.Module, password: Uint8Array, salt: Uint8Array, params: Argon2Params, length: number): Promise<Uint8Array> {
  // A new instance per check, as hash-wasm does: the module's buffer placement assumes fresh memory.
  const instance = await WebAssembly.instantiate(module, {});
  const x = instance.exports as unknown as Argon2Exports;
  const memoryBytes = params.m * 1024;
  // The module places its buffer on the first Hash_GetBuffer; hash-wasm asks for it before
  // sizing the memory, and so must this (sizing first leaves the buffer at offset 0).
  x.Hash_GetBuffer();
  // One block past the memory holds the parameters the module reads.
  x.Hash_SetMemorySize(memoryBytes + 1024);
  // Taken once, as hash-wasm does: the memory does not grow after Hash_SetMemorySize.
  const offset = x.Hash_GetBuffer();
  const view = () => new Uint8Array(x.memory.buffer, offset, memoryBytes + 1024);
  const init = new Uint8Array(24);
  const dv = new DataView(init.buffer);
  [params.p, length, params.m, params.t, VERSION, ARGON2ID].forEach((v, i) => dv.setInt32(i * 4, v, true));
  view().set(init, memoryBytes);
  // H0 (§3.2 step 1); no secret, no associated data.
  const h0 = blake2b
    .create({ dkLen: 64 })
    .update(init)
    .update(le32(password.length))
    .update(password)
    .update(le32(salt.length))
    .update(salt)
    .update(le32(0))
    .update(le32(0))
    .digest();
  const laneBlocks = Math.floor(params.m / (params.p * 4)) * 4;
  const seed = new Uint8Array(72);
  seed.set(h0);
  for (let lane = 0; lane < params.p; lane++) {
    seed.set(le32(lane), 68);
    for (const col of [0, 1]) {
      seed.set(le32(col), 64);
      view().set(hashLong(seed, 1024), (lane * laneBlocks + col) * 1024);
    }
  }
  x.Hash_Calculate(0, params.m, 0);
  // The final block C, XORed across lanes by the module, is left at the buffer's start.
  return hashLong(new Uint8Array(x.memory.buffer, offset, 1024).slice(), length);
}
