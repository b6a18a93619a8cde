/**
 * The configuration file that `serve`, every command and the systemd unit
 * (EnvironmentFile=) read alike, so a command run by hand acts on the service's database.
 * SMARTHOST_CONFIG names it; unset, /etc/smarthost/smarthost.env when it exists; empty, none.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Failure } from "../core/failure.ts";

export const DEFAULT_CONFIG_FILE = "/etc/smarthost/smarthost.env";

export interface ConfigEnvironment {
  /** The file's values under the process environment's (the environment wins). */
  env: Record<string, string | undefined>;
  /** The file read, or null when there was none. */
  file: string | null;
}

/**
 * KEY=VALUE lines, `#` comment lines, a value optionally in double or single quotes: the
 * subset systemd's EnvironmentFile= reads the same way. No inline comments, no `export`,
 * no line continuations; any other line is refused by its number (never echoed: it may
 * hold a secret).
 */
export function parseConfigFile(text: string, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Failure("config", `${path}, line ${i + 1}: expected KEY=VALUE`);
    const value = m[2]!;
    const quoted = value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0];
    out[m[1]!] = quoted ? value.slice(1, -1) : value;
  });
  return out;
}

/** Where the configuration file is, if any: SMARTHOST_CONFIG, else the default when it exists. */
export function configFilePath(env: Record<string, string | undefined>): string | null {
  const named = env.SMARTHOST_CONFIG;
  if (named !== undefined) return named === "" ? null : named;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : null;
}

/** The environment the configuration is read from: the file's values, the process's over them. */
export function configEnvironment(processEnv: Record<string, string | undefined>): ConfigEnvironment {
  const file = configFilePath(processEnv);
  if (file === null) return { env: processEnv, file: null };
  let text: string;
  try {
    if (!statSync(file).isFile()) throw new Failure("config", `SMARTHOST_CONFIG: ${file} is not a file`);
    text = readFileSync(file, "utf8");
  } catch (err) {
    if (err instanceof Failure) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new Failure("config", `SMARTHOST_CONFIG: cannot read ${file} (${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code})`, { cause: err });
  }
  return { env: { ...parseConfigFile(text, file), ...processEnv }, file };
}

/** The file a `file:` database URL names (null for :memory: and remote databases). */
export function databaseFile(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  const path = url.slice("file:".length).split("?")[0]!;
  return path === "" || path === ":memory:" ? null : path;
}

/**
 * Refuses to go on where the configured database file does not exist: every command but
 * `serve` and `migrate` would otherwise create a new, empty one wherever it was run.
 */
export function requireDatabase(url: string, file: string | null): void {
  const path = databaseFile(url);
  if (path === null || existsSync(path)) return;
  const read = file === null ? `no configuration file read: neither SMARTHOST_CONFIG nor ${DEFAULT_CONFIG_FILE}` : `configuration from ${file}`;
  throw new Failure(
    "config",
    `no database at ${resolve(path)} (nothing created; ${read}).\n` +
      `  To create it: smarthost migrate. To use the service's database: SMARTHOST_CONFIG=/path/to/smarthost.env, or SMARTHOST_DB_URL=file:/absolute/path.db`,
  );
}

/** The user name for a uid from /etc/passwd, else the number. */
function userName(uid: number): string {
  try {
    const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.split(":")[2] === String(uid));
    return line?.split(":")[0] || String(uid);
  } catch {
    return String(uid);
  }
}

/**
 * Root acting on another user's database would leave files that user cannot open (SQLite
 * makes the -wal and -shm files, the data folder gets a key file, all root's and 0600):
 * the service would stop at its next start. Refused, with the command to run instead.
 * `uid` is the caller's (process.getuid()); the database file, or its folder when the file
 * is not there yet, says whose it is.
 */
export function refuseForeignOwner(url: string, uid: number | undefined): void {
  const path = databaseFile(url);
  if (uid !== 0 || path === null) return;
  const at = [path, dirname(resolve(path))].find((p) => existsSync(p));
  if (at === undefined) return;
  const owner = statSync(at).uid;
  if (owner === 0) return;
  const name = userName(owner);
  throw new Failure("config", `${at} belongs to ${name}: run smarthost as that user (sudo -u ${name} smarthost …), so that the files it makes stay the service's`);
}
