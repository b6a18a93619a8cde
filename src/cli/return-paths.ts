/** `domain return-path …`: VERP return paths per sender domain, with the MX record to publish. */
import { configuredHostname } from "../runtime/host-name.ts";
import { addReturnPath, dropReturnPath, returnPathRows } from "../admin/return-paths.ts";
import { JSON_OPTION, printRows, withDatabase } from "./io.ts";
import type { Command } from "./table.ts";

export const returnPathCommands: Command[] = [
  {
    name: "domain return-path",
    args: "DOMAIN RPDOMAIN",
    summary: "mail from DOMAIN leaves with the envelope sender b-<token>@RPDOMAIN (VERP);\nprints the MX record to publish so its bounces reach SMARTHOST_INBOUND_LISTEN",
    async run({ config, args, out }) {
      const host = await configuredHostname(config);
      const r = await withDatabase(config, (d) => addReturnPath(d.sql, args[0]!, args[1]!, host));
      out(`return path for ${r.domain}: b-<token>@${r.return_domain}; publish this MX record (mail to it reaches the inbound listener):`);
      out(r.mx);
      return 0;
    },
  },
  {
    name: "domain return-path list",
    summary: "sender domains with a return path, and the MX record each needs",
    options: JSON_OPTION,
    async run(ctx) {
      const host = await configuredHostname(ctx.config);
      printRows(ctx, await withDatabase(ctx.config, (d) => returnPathRows(d.sql, host)), "no return paths");
      return 0;
    },
  },
  {
    name: "domain return-path remove",
    args: "DOMAIN",
    summary: "mail from DOMAIN leaves with its own MAIL FROM again",
    async run({ config, args, out }) {
      await withDatabase(config, (d) => dropReturnPath(d.sql, args[0]!));
      out(`return path for ${args[0]} removed`);
      return 0;
    },
  },
];
