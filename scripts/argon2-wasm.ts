/**
 * Writes src/policy/argon2.wasm: hash-wasm's argon2 WebAssembly module, which hash-wasm
 * ships as base64 inside its JavaScript. workerd refuses WebAssembly compiled from bytes at
 * run time but accepts a `.wasm` module imported by the bundle, so the Workers build
 * imports this file (src/runtime/workers-argon2.ts).
 *
 *   bun scripts/argon2-wasm.ts           # (re)write the file after a hash-wasm update
 *   bun scripts/argon2-wasm.ts --check   # exit 1 when the file differs from hash-wasm's
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
export const ARGON2_WASM_PATH = join(root, "src", "policy", "argon2.wasm");

/** The module's bytes as the installed hash-wasm embeds them. */
export function embeddedArgon2Wasm(): Uint8Array {
  const source = readFileSync(join(root, "node_modules", "hash-wasm", "dist", "index.esm.js"), "utf8");
  const m = /var name\$(\w+) = "argon2";\s*var data\$\1 = "([A-Za-z0-9+/=]+)";/.exec(source);
  if (!m) throw new Error("hash-wasm's embedded argon2 module was not found: update scripts/argon2-wasm.ts");
  return new Uint8Array(Buffer.from(m[2]!, "base64"));
}

if (import.meta.main) {
  const bytes = embeddedArgon2Wasm();
  if (process.argv.includes("--check")) {
    const same = Buffer.compare(Buffer.from(bytes), readFileSync(ARGON2_WASM_PATH)) === 0;
    console.log(same ? "src/policy/argon2.wasm matches hash-wasm" : "src/policy/argon2.wasm differs from hash-wasm: run bun scripts/argon2-wasm.ts");
    process.exit(same ? 0 : 1);
  }
  writeFileSync(ARGON2_WASM_PATH, bytes);
  console.log(`wrote ${ARGON2_WASM_PATH} (${bytes.length} bytes)`);
}
