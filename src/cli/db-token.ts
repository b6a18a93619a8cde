/**
 * `db token DIR`: the key pair a libSQL server (sqld) checks its clients' tokens with, and
 * a token for the nodes (SMARTHOST_DB_AUTH_TOKEN). DIR/jwt.pem is the public key for
 * `sqld --auth-jwt-key-file`; DIR/jwt-private.pem (owner only) signs; a second run signs a
 * new token with the same key. The token is printed once and stored nowhere.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sign } from "hono/jwt";
import type { Command } from "./table.ts";

async function token(dir: string): Promise<{ token: string; made: boolean }> {
  const privatePath = join(dir, "jwt-private.pem");
  const made = !existsSync(privatePath);
  if (made) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync("ed25519");
    writeFileSync(privatePath, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
  }
  const privateKey = createPrivateKey(readFileSync(privatePath));
  writeFileSync(join(dir, "jwt.pem"), createPublicKey(privateKey).export({ type: "spki", format: "pem" }), { mode: 0o644 });
  // sqld's claim for full access to every namespace's data: read and write.
  const jwt = await sign({ a: "rw", iat: Math.floor(Date.now() / 1000) }, privateKey.export({ format: "jwk" }) as Parameters<typeof sign>[1], "EdDSA");
  return { token: jwt, made };
}

export const dbCommands: Command[] = [
  {
    name: "db token",
    database: "none",
    args: "DIR",
    summary: "a key pair for sqld --auth-jwt-key-file DIR/jwt.pem, and a token for SMARTHOST_DB_AUTH_TOKEN (printed once)",
    async run({ args, out }) {
      const t = await token(args[0]!);
      out(t.made ? `made ${join(args[0]!, "jwt-private.pem")} (keep it; owner only) and ${join(args[0]!, "jwt.pem")} (for sqld --auth-jwt-key-file)` : `signed with ${join(args[0]!, "jwt-private.pem")}`);
      out(t.token);
      return 0;
    },
  },
];
