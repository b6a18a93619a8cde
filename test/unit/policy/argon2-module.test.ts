/**
 * argon2id on the bundled WebAssembly module (the Workers path): the committed module is
 * hash-wasm's own, and the driver gives hash-wasm's bytes for every parameter shape.
 */
import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { argon2id } from "hash-wasm";
import { ARGON2_WASM_PATH, embeddedArgon2Wasm } from "../../../scripts/argon2-wasm.ts";
import { argon2idOnModule } from "../../../src/policy/argon2-module.ts";
import { hashPassword, useArgon2Module, verifyPassword } from "../../../src/policy/passwords.ts";

const module = new WebAssembly.Module(readFileSync(ARGON2_WASM_PATH));
afterEach(() => useArgon2Module(null));

test("src/policy/argon2.wasm is the module the installed hash-wasm embeds", () => {
  expect(Buffer.compare(Buffer.from(embeddedArgon2Wasm()), readFileSync(ARGON2_WASM_PATH))).toBe(0);
});

test.each([
  ["the stored parameters", "pässwörd ✉", 16, { m: 19456, t: 2, p: 1 }, 32],
  ["two lanes, a tag longer than one BLAKE2b output", "x", 8, { m: 64, t: 3, p: 2 }, 100],
  ["three lanes, memory not a multiple of 4p, a 64-byte tag", "longer password ".repeat(20), 32, { m: 100, t: 1, p: 3 }, 64],
  ["a short tag", "p", 16, { m: 256, t: 4, p: 1 }, 4],
])("%s: the same bytes as hash-wasm", async (_, password, saltLength, params, length) => {
  const salt = Uint8Array.from({ length: saltLength }, (_, i) => (i * 37 + 11) & 255);
  const ours = await argon2idOnModule(module, new TextEncoder().encode(password), salt, params, length);
  const theirs = await argon2id({ password, salt, iterations: params.t, memorySize: params.m, parallelism: params.p, hashLength: length, outputType: "binary" });
  expect(Buffer.from(ours).toString("hex")).toBe(Buffer.from(theirs).toString("hex"));
});

test("with the bundled module, passwords compile nothing at run time (as workerd demands) and agree with hash-wasm both ways", async () => {
  const salt = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  const madeByWasm = await argon2id({ password: "made elsewhere", salt, iterations: 2, memorySize: 19456, parallelism: 1, hashLength: 32, outputType: "encoded" });
  const { compile, instantiate } = WebAssembly;
  const seen = { compiles: 0, fromBytes: 0 };
  Object.assign(WebAssembly, {
    compile: (...a: Parameters<typeof compile>) => (seen.compiles++, compile(...a)),
    instantiate: (what: unknown, imports?: Record<string, Record<string, unknown>>) => {
      if (!(what instanceof WebAssembly.Module)) seen.fromBytes++;
      return instantiate(what as WebAssembly.Module, imports as never);
    },
  });
  try {
    useArgon2Module(module);
    expect(await verifyPassword("made elsewhere", madeByWasm)).toBe(true);
    expect(await verifyPassword("made elsewhera", madeByWasm)).toBe(false);
    const ours = await hashPassword("made here");
    expect(seen).toEqual({ compiles: 0, fromBytes: 0 });
    useArgon2Module(null);
    expect(await verifyPassword("made here", ours)).toBe(true);
  } finally {
    Object.assign(WebAssembly, { compile, instantiate });
  }
});
