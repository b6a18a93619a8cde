/** `smarthost` commands (see README). Reads the same configuration as `serve`. */
import { parseArgs } from "node:util";
import { addApiKey, addAccount, addCredential, allowNetwork, allowSender } from "./admin/accounts.ts";
import { AdminError } from "./admin/errors.ts";
import { queueListing } from "./admin/queue.ts";
import { addRoute } from "./admin/routes.ts";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import type { Database } from "./db/client.ts";
import { openDatabase } from "./runtime/bun-db.ts";
import { secretBoxFromConfig } from "./runtime/secret-key-file.ts";
import { SecretKeyError, type SecretBox } from "./secrets/cipher.ts";
import { maskRoutePassword } from "./secrets/route-passwords.ts";
import { modeOf, serve } from "./serve.ts";
import { suppressAddress, suppressionListing, unsuppressAddress } from "./admin/suppressions.ts";
import { addWebhook, removeWebhook, rotateWebhook, webhookListing } from "./admin/webhooks.ts";

const USAGE = `usage: smarthost <command>
  serve [--egress-only]                          run the relay (SMTP, HTTP API, delivery); --egress-only: delivery alone
  migrate                                        apply migrations to the database
  account add NAME [--per-minute N] [--per-day N]
  credential add ACCOUNT USERNAME [--password P] prints a generated password on its last line
  key add ACCOUNT                                prints the API key on its last line
  sender allow ACCOUNT PATTERN                   user@example.com, *@example.com or example.com
  network allow ACCOUNT CIDR                     clients there send as ACCOUNT without AUTH
  route add DOMAIN|* URL                         mx, smtp://[user:pass@]host:port, smtps://…
  queue                                          list queued and deferred recipients
  suppression list [ACCOUNT] [--json] | add ACCOUNT ADDRESS | remove ACCOUNT ADDRESS
  webhook add ACCOUNT URL [--events a,b] | list [ACCOUNT] [--json] | rotate ID | remove ID   add/rotate print the secret on the last line`;

async function withDb<T>(config: Config, fn: (db: Database, secrets: SecretBox) => Promise<T>): Promise<T> {
  const secrets = await secretBoxFromConfig(config);
  const database = await openDatabase(config.SMARTHOST_DB_URL, config.SMARTHOST_DB_AUTH_TOKEN, secrets);
  try {
    return await fn(database, secrets);
  } finally {
    database.close();
  }
}

function positionals(args: string[], n: number, usage: string): string[] {
  if (args.length !== n) throw new AdminError(`usage: smarthost ${usage}`);
  return args;
}

const limit = (s: string | undefined, flag: string): number | null => {
  if (s === undefined) return null;
  if (!/^\d+$/.test(s)) throw new AdminError(`${flag} must be a whole number`);
  return Number(s);
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  const config = loadConfig(process.env);
  const key = `${cmd ?? ""} ${["serve", "migrate", "queue"].includes(cmd ?? "") ? "" : (sub ?? "")}`.trim();
  const args = ["serve", "migrate", "queue"].includes(cmd ?? "") ? [sub, ...rest].filter((x): x is string => x !== undefined) : rest;
  switch (key) {
    case "serve": {
      const { values } = parseArgs({ args, options: { "egress-only": { type: "boolean", default: false } } });
      const running = await serve(config, modeOf(config, values["egress-only"]!));
      const stop = async () => {
        await running.stop();
        process.exit(0);
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
      return -1;
    }
    case "migrate":
      // Opening the database applies what is pending.
      await withDb(config, async () => {});
      console.log(`migrations applied to ${config.SMARTHOST_DB_URL}`);
      return 0;
    case "queue":
      console.log(await withDb(config, (d) => queueListing(d.db)));
      return 0;
    case "account add": {
      const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { "per-minute": { type: "string" }, "per-day": { type: "string" } } });
      const [name] = positionals(pos, 1, "account add NAME [--per-minute N] [--per-day N]");
      const limits = { perMinute: limit(values["per-minute"], "--per-minute"), perDay: limit(values["per-day"], "--per-day") };
      await withDb(config, (d) => addAccount(d.db, name!, limits));
      console.log(`account ${name} added`);
      return 0;
    }
    case "credential add": {
      const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { password: { type: "string" } } });
      const [account, username] = positionals(pos, 2, "credential add ACCOUNT USERNAME [--password P]");
      const generated = await withDb(config, (d) => addCredential(d.db, account!, username!, values.password));
      console.log(`credential ${username} added to account ${account}`);
      if (generated) console.log(generated);
      return 0;
    }
    case "key add": {
      const [account] = positionals(args, 1, "key add ACCOUNT");
      const apiKey = await withDb(config, (d) => addApiKey(d.db, account!));
      console.log(`API key added to account ${account} (shown once)`);
      console.log(apiKey);
      return 0;
    }
    case "sender allow": {
      const [account, pattern] = positionals(args, 2, "sender allow ACCOUNT PATTERN");
      const p = await withDb(config, (d) => allowSender(d.db, account!, pattern!));
      console.log(`account ${account} may send as ${p}`);
      return 0;
    }
    case "network allow": {
      const [account, cidr] = positionals(args, 2, "network allow ACCOUNT CIDR");
      const n = await withDb(config, (d) => allowNetwork(d.db, account!, cidr!));
      console.log(`clients in ${n} may send as account ${account} without AUTH`);
      return 0;
    }
    case "route add": {
      const [domain, url] = positionals(args, 2, "route add DOMAIN|* URL");
      const position = await withDb(config, (d, secrets) => addRoute(d.db, secrets, domain!, url!));
      console.log(`route ${domain} -> ${maskRoutePassword(url!)} (position ${position})`);
      return 0;
    }
    case "suppression list": {
      const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean", default: false } } });
      if (pos.length > 1) throw new AdminError("usage: smarthost suppression list [ACCOUNT] [--json]");
      console.log(await withDb(config, (d) => suppressionListing(d, pos[0], values.json!)));
      return 0;
    }
    case "suppression add": {
      const [account, address] = positionals(args, 2, "suppression add ACCOUNT ADDRESS");
      console.log(`${await withDb(config, (d) => suppressAddress(d, account!, address!))} suppressed for account ${account}`);
      return 0;
    }
    case "suppression remove": {
      const [account, address] = positionals(args, 2, "suppression remove ACCOUNT ADDRESS");
      await withDb(config, (d) => unsuppressAddress(d, account!, address!));
      console.log(`${address} removed from the suppression list of ${account}`);
      return 0;
    }
    case "webhook add": {
      const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { events: { type: "string" } } });
      const [account, url] = positionals(pos, 2, "webhook add ACCOUNT URL [--events a,b]");
      const w = await withDb(config, (d, secrets) => addWebhook(d, secrets, account!, url!, values.events, config.SMARTHOST_ALLOW_PRIVATE_WEBHOOKS));
      console.log(`webhook ${w.id} added for account ${account}; its signing secret (shown once):`);
      console.log(w.secret);
      return 0;
    }
    case "webhook list": {
      const { values, positionals: pos } = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean", default: false } } });
      if (pos.length > 1) throw new AdminError("usage: smarthost webhook list [ACCOUNT] [--json]");
      console.log(await withDb(config, (d) => webhookListing(d, pos[0], values.json!)));
      return 0;
    }
    case "webhook rotate": {
      const [id] = positionals(args, 1, "webhook rotate ID");
      const secret = await withDb(config, (d, secrets) => rotateWebhook(d, secrets, id!));
      console.log(`webhook ${id}: new signing secret (shown once); the old one keeps signing for 24 hours:`);
      console.log(secret);
      return 0;
    }
    case "webhook remove": {
      const [id] = positionals(args, 1, "webhook remove ID");
      await withDb(config, (d) => removeWebhook(d, id!));
      console.log(`webhook ${id} removed`);
      return 0;
    }
    default:
      console.error(USAGE);
      return cmd === undefined || cmd === "help" || cmd === "--help" ? 0 : 2;
  }
}

/** Runs a command and exits with its status (serve keeps running). */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (err: unknown) => {
      if (err instanceof AdminError || err instanceof ConfigError || err instanceof SecretKeyError) {
        console.error(`error: ${err.message}`);
        process.exit(1);
      }
      console.error(err);
      process.exit(1);
    },
  );
}

if (import.meta.main) runCli(process.argv.slice(2));
