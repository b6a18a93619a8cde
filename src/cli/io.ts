/** What the commands share: the database for one command, lists as text or JSON, secrets from stdin or the environment. */
import type { Config } from "../config.ts";
import type { Database, Db } from "../db/client.ts";
import { openDatabase } from "../runtime/bun-db.ts";
import { secretBoxFromConfig } from "../runtime/secret-key-file.ts";
import type { SecretBox } from "../secrets/cipher.ts";
import type { Context, Option } from "./table.ts";
import { formatTable } from "./columns.ts";
import { Failure } from "../core/failure.ts";

/** The database for one command, brought up to date, with the box that seals its secrets. */
export async function withDb<T>(config: Config, fn: (db: Db, secrets: SecretBox) => Promise<T>): Promise<T> {
  const secrets = await secretBoxFromConfig(config);
  const database = await openDatabase(config.SMARTHOST_DB_URL, config.SMARTHOST_DB_AUTH_TOKEN, secrets);
  try {
    return await fn(database.db, secrets);
  } finally {
    database.close();
  }
}

/** The same, for commands that need the whole database handle (raw SQL and the writer). */
export async function withDatabase<T>(config: Config, fn: (database: Database, secrets: SecretBox) => Promise<T>): Promise<T> {
  const secrets = await secretBoxFromConfig(config);
  const database = await openDatabase(config.SMARTHOST_DB_URL, config.SMARTHOST_DB_AUTH_TOKEN, secrets);
  try {
    return await fn(database, secrets);
  } finally {
    database.close();
  }
}

export const JSON_OPTION: Record<string, Option> = { json: { type: "boolean", help: "one JSON array on stdout, for scripts" } };

/**
 * A list as one JSON array (`--json`: the rows as given, stable field names, never a
 * secret) or as aligned columns under a header; `view` shapes a row for the eye only
 * (a date shortened, a state with its reason), never the JSON.
 */
export function printRows<T extends object>(ctx: Context, rows: T[], empty: string, view?: (row: T) => Record<string, unknown>): void {
  if (ctx.values.json) return ctx.out(JSON.stringify(rows));
  if (rows.length === 0) return ctx.out(empty);
  for (const line of formatTable(rows.map((r) => (view ? view(r) : (r as Record<string, unknown>))))) ctx.out(line);
}

/** "N" or "none" for a limit. */
export function limitValue(s: string | boolean | undefined, flag: string, allowNone: boolean): number | null | undefined {
  if (s === undefined || typeof s === "boolean") return undefined;
  if (allowNone && s === "none") return null;
  if (!/^\d+$/.test(s)) throw new Failure("invalid", `--${flag} must be a whole number${allowNone ? " or none" : ""}`);
  return Number(s);
}

/** Options for a secret that should not sit in `ps` or shell history. */
export const SECRET_OPTIONS: Record<string, Option> = {
  "password-stdin": { type: "boolean", help: "read the password from standard input" },
  "password-env": { type: "string", value: "VAR", help: "read the password from the environment variable VAR" },
};

/** The password from --password, --password-stdin or --password-env (at most one), else undefined. */
export async function secretFrom(ctx: Context): Promise<string | undefined> {
  const given = [ctx.values.password !== undefined, ctx.values["password-stdin"] === true, ctx.values["password-env"] !== undefined].filter(Boolean).length;
  if (given > 1) throw new Failure("invalid", "give the password one way: --password, --password-stdin or --password-env");
  if (typeof ctx.values.password === "string") return ctx.values.password;
  if (ctx.values["password-stdin"] === true) {
    // One trailing line break is what `echo` or a here-string adds; it is not part of the password.
    const s = (await ctx.stdin()).replace(/\r?\n$/, "");
    if (s === "") throw new Failure("invalid", "--password-stdin: standard input is empty");
    return s;
  }
  const name = ctx.values["password-env"];
  if (typeof name === "string") {
    const s = ctx.env[name];
    if (s === undefined || s === "") throw new Failure("invalid", `--password-env: ${name} is not set`);
    return s;
  }
  return undefined;
}
