/**
 * The plain-JavaScript argon2id path (@noble/hashes), taken where WebAssembly cannot be
 * compiled at run time (Workers), must agree byte for byte with the hash-wasm path.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { argon2id } from "hash-wasm";
import { verifyPassword } from "../../../src/policy/passwords.ts";

const SCRIPT = join(import.meta.dir, "..", "..", "support", "passwords-without-wasm.ts");

async function withoutWasm(input: { verify?: [string, string][]; hash?: string[] }) {
  const proc = Bun.spawn([process.execPath, SCRIPT, JSON.stringify(input)], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`password script failed (${code}): ${err}`);
  return JSON.parse(out) as { verified: boolean[]; hashes: string[]; refusals: number };
}

const wasmEncoded = (password: string, salt: Uint8Array) =>
  argon2id({ password, salt, iterations: 2, memorySize: 19456, parallelism: 1, hashLength: 32, outputType: "encoded" });

test("without WebAssembly, @noble/hashes verifies hash-wasm's hashes and makes the same PHC string for the same salt", async () => {
  const salt = Uint8Array.from({ length: 16 }, (_, i) => i * 7 + 3);
  const fromWasm = await wasmEncoded("made by hash-wasm", salt);
  const js = await withoutWasm({ verify: [["made by hash-wasm", fromWasm], ["made by hash-wasn", fromWasm]], hash: ["made by noble"] });
  // hash-wasm was tried and refused: what follows came from the fallback.
  expect(js.refusals).toBeGreaterThan(0);
  expect(js.verified).toEqual([true, false]);

  const fromJs = js.hashes[0]!;
  const m = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/.exec(fromJs);
  expect(m).not.toBeNull();
  const jsSalt = Uint8Array.from(atob(`${m![1]!}==`), (c) => c.charCodeAt(0));
  // The same password and salt through hash-wasm give the very same string.
  expect(await wasmEncoded("made by noble", jsSalt)).toBe(fromJs);
  // And this process (hash-wasm path) verifies what the fallback made.
  expect(await verifyPassword("made by noble", fromJs)).toBe(true);
  expect(await verifyPassword("made by nobel", fromJs)).toBe(false);
}, 60_000);
