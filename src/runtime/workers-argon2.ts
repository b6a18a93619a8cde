/**
 * The argon2 WebAssembly module for Workers, imported so that wrangler bundles it already
 * compiled: workerd refuses `WebAssembly.compile` of bytes at run time, which is how
 * hash-wasm loads it, but instantiates a module that came with the bundle. Imported only
 * by the Workers entry; the file is hash-wasm's own module (scripts/argon2-wasm.ts).
 */
import argon2 from "../policy/argon2.wasm";

export const argon2Module: WebAssembly.Module = argon2;
