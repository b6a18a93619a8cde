/** `sender …` commands. */
import { allowSender } from "../admin/accounts.ts";
import { listSenders, removeSender } from "../admin/rules.ts";
import { JSON_OPTION, printRows, withDb } from "./io.ts";
import type { Command } from "./table.ts";

export const senderCommands: Command[] = [
  {
    name: "sender allow",
    args: "ACCOUNT PATTERN",
    summary: "sender addresses the account may use: user@example.com, *@example.com or example.com",
    async run({ config, args, out }) {
      const p = await withDb(config, (db) => allowSender(db, args[0]!, args[1]!));
      out(`account ${args[0]} may send as ${p}`);
      return 0;
    },
  },
  {
    name: "sender list",
    args: "[ACCOUNT]",
    summary: "sender rules",
    options: JSON_OPTION,
    async run(ctx) {
      printRows(ctx, await withDb(ctx.config, (db) => listSenders(db, ctx.args[0])), "no sender rules");
      return 0;
    },
  },
  {
    name: "sender remove",
    args: "ACCOUNT PATTERN",
    summary: "remove a sender rule",
    async run({ config, args, out }) {
      const p = await withDb(config, (db) => removeSender(db, args[0]!, args[1]!));
      out(`account ${args[0]} may no longer send as ${p}`);
      return 0;
    },
  },
];
