/** `key …` commands. */
import { addApiKey } from "../admin/accounts.ts";
import { listKeys, revokeKey } from "../admin/keys.ts";
import { JSON_OPTION, printRows, withDb } from "./io.ts";
import type { Command } from "./table.ts";

export const keyCommands: Command[] = [
  {
    name: "key add",
    args: "ACCOUNT",
    summary: "an HTTP API key, printed alone on the last line (once)",
    async run({ config, args, out }) {
      const key = await withDb(config, (db) => addApiKey(db, args[0]!));
      out(`API key added to account ${args[0]} (shown once)`);
      out(key);
      return 0;
    },
  },
  {
    name: "key list",
    args: "[ACCOUNT]",
    summary: "API keys: id (the sh_<id>_ part), account, created, last used, revoked",
    options: JSON_OPTION,
    async run(ctx) {
      printRows(ctx, await withDb(ctx.config, (db) => listKeys(db, ctx.args[0])), "no API keys");
      return 0;
    },
  },
  {
    name: "key revoke",
    args: "KEY_ID",
    summary: "revoke an API key: the next request with it gets 401",
    async run({ config, args, out }) {
      const k = await withDb(config, (db) => revokeKey(db, args[0]!, Date.now()));
      out(`API key ${k.id} of account ${k.account} revoked`);
      return 0;
    },
  },
];
