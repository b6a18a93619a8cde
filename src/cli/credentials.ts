/** `credential …` commands. */
import { addCredential } from "../admin/accounts.ts";
import { listCredentials, removeCredential, rotateCredential } from "../admin/credentials.ts";
import { JSON_OPTION, printRows, SECRET_OPTIONS, secretFrom, withDb } from "./io.ts";
import type { Command } from "./table.ts";

export const credentialCommands: Command[] = [
  {
    name: "credential add",
    args: "ACCOUNT USERNAME",
    summary: "an SMTP credential; a generated password is printed alone on the last line (once)",
    options: { password: { type: "string", value: "P", help: "use P (visible in ps and history: prefer the two below)" }, ...SECRET_OPTIONS },
    async run(ctx) {
      const [account, username] = ctx.args as [string, string];
      const password = await secretFrom(ctx);
      const generated = await withDb(ctx.config, (db) => addCredential(db, account, username, password));
      ctx.out(`credential ${username} added to account ${account}`);
      if (generated) ctx.out(generated);
      return 0;
    },
  },
  {
    name: "credential list",
    args: "[ACCOUNT]",
    summary: "SMTP credentials (never their passwords)",
    options: JSON_OPTION,
    async run(ctx) {
      printRows(ctx, await withDb(ctx.config, (db) => listCredentials(db, ctx.args[0])), "no credentials");
      return 0;
    },
  },
  {
    name: "credential rotate",
    args: "USERNAME",
    summary: "a new password (the old one stops working at once); a generated one is printed alone on the last line",
    options: SECRET_OPTIONS,
    async run(ctx) {
      const password = await secretFrom(ctx);
      const generated = await withDb(ctx.config, (db) => rotateCredential(db, ctx.args[0]!, password));
      ctx.out(`credential ${ctx.args[0]}: password changed`);
      if (generated) ctx.out(generated);
      return 0;
    },
  },
  {
    name: "credential remove",
    args: "USERNAME",
    summary: "remove an SMTP credential",
    async run(ctx) {
      await withDb(ctx.config, (db) => removeCredential(db, ctx.args[0]!));
      ctx.out(`credential ${ctx.args[0]} removed`);
      return 0;
    },
  },
];
