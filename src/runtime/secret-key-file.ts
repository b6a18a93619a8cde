/**
 * SMARTHOST_SECRET_KEY on runtimes with a file system (Bun, Node, Deno): the configured
 * key, else the one kept under the data folder, made on first start. The data folder is
 * the relay's own (it also holds the TLS key): 0700, the key file 0600.
 */
import { chmod, link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config.ts";
import { createSecretBox, generateSecretKey, secretKeyProblem, type SecretBox } from "../secrets/cipher.ts";
import { Failure } from "../core/failure.ts";

export const SECRET_KEY_FILE = "secret.key";

const isCode = (err: unknown, code: string) => (err as { code?: unknown } | null)?.code === code;

/** The key kept in `dataDir/secret.key`, written there first when there is none. */
export async function loadOrCreateSecretKey(dataDir: string): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const path = join(dataDir, SECRET_KEY_FILE);
  try {
    return await readKeyFile(path);
  } catch (err) {
    if (!isCode(err, "ENOENT")) throw err;
  }
  // Written aside, then linked into place: link() fails when the file exists, so two
  // processes starting at once (serve and a command) end up with the same key, and no
  // reader ever sees a half-written file.
  const aside = `${path}.${crypto.randomUUID()}`;
  await writeFile(aside, `${generateSecretKey()}\n`, { mode: 0o600, flag: "wx" });
  try {
    await link(aside, path);
  } catch (err) {
    if (!isCode(err, "EEXIST")) throw err;
  } finally {
    await unlink(aside).catch(() => {});
  }
  return readKeyFile(path);
}

async function readKeyFile(path: string): Promise<string> {
  const key = (await readFile(path, "utf8")).trim();
  const problem = secretKeyProblem(key);
  // The file's contents are never repeated, only what is wrong with them.
  if (problem) throw new Failure("config", `${path}: ${problem.replace("SMARTHOST_SECRET_KEY", "the key file")}`, { code: "secret_key" });
  return key;
}

/**
 * The box that seals and opens secrets at rest (route passwords, DKIM keys, webhook
 * secrets), for everything that needs one on this node.
 */
export async function secretBoxFromConfig(config: Pick<Config, "SMARTHOST_SECRET_KEY" | "SMARTHOST_DATA_DIR">): Promise<SecretBox> {
  return createSecretBox(config.SMARTHOST_SECRET_KEY ?? (await loadOrCreateSecretKey(config.SMARTHOST_DATA_DIR)));
}
