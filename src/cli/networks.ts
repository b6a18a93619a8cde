/** `network …` commands. */
import { allowNetwork } from "../admin/accounts.ts";
import { listNetworks, removeNetwork } from "../admin/rules.ts";
import { JSON_OPTION, printRows, withDb } from "./io.ts";
import type { Command } from "./table.ts";

export const networkCommands: Command[] = [
  {
    name: "network allow",
    args: "ACCOUNT CIDR",
    summary: "clients in CIDR send as ACCOUNT without AUTH",
    async run({ config, args, out }) {
      const n = await withDb(config, (db) => allowNetwork(db, args[0]!, args[1]!));
      out(`clients in ${n} may send as account ${args[0]} without AUTH`);
      return 0;
    },
  },
  {
    name: "network list",
    args: "[ACCOUNT]",
    summary: "trusted networks",
    options: JSON_OPTION,
    async run(ctx) {
      printRows(ctx, await withDb(ctx.config, (db) => listNetworks(db, ctx.args[0])), "no trusted networks");
      return 0;
    },
  },
  {
    name: "network remove",
    args: "ACCOUNT CIDR",
    summary: "stop trusting a network",
    async run({ config, args, out }) {
      const n = await withDb(config, (db) => removeNetwork(db, args[0]!, args[1]!));
      out(`clients in ${n} no longer send as account ${args[0]}`);
      return 0;
    },
  },
];
