/**
 * Runs the password functions in a process where WebAssembly cannot be compiled at run
 * time, as on Workers, so src/policy/passwords.ts must take its plain-JavaScript path.
 * Input (argv[2], JSON): { verify: [password, encoded][], hash: password[] }.
 * Output (stdout, JSON): { verified: boolean[], hashes: string[], refusals: number }.
 */
export {};

const refused = { count: 0 };
const refuse = (): Promise<never> => {
  refused.count++;
  // The error workerd gives for code compiled from bytes at run time.
  return Promise.reject(new WebAssembly.CompileError("WebAssembly.compile(): Wasm code generation disallowed by embedder"));
};
Object.assign(WebAssembly, { compile: refuse, instantiate: refuse });

const input = JSON.parse(process.argv[2] ?? "{}") as { verify?: [string, string][]; hash?: string[] };
const { hashPassword, verifyPassword } = await import("../../src/policy/passwords.ts");
const verified: boolean[] = [];
for (const [password, encoded] of input.verify ?? []) verified.push(await verifyPassword(password, encoded));
const hashes: string[] = [];
for (const password of input.hash ?? []) hashes.push(await hashPassword(password));
process.stdout.write(JSON.stringify({ verified, hashes, refusals: refused.count }));
