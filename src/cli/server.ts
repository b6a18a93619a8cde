/** `serve` and `migrate`. */
import { modeOf, serve } from "../serve.ts";
import { withDb } from "./io.ts";
import type { Command } from "./table.ts";

export const serverCommands: Command[] = [
  {
    name: "serve",
    database: "creates",
    summary: "run the relay (SMTP, HTTP API, delivery)",
    options: { "egress-only": { type: "boolean", help: "delivery alone" } },
    async run({ config, values }) {
      const running = await serve(config, modeOf(config, values["egress-only"] === true));
      // Once, whichever signal comes first: Ctrl-C reaches both bin/smarthost and this
      // process, and bin/smarthost forwards it too; a second signal must not kill the stop.
      let stopped: Promise<void> | null = null;
      const stop = (signal: NodeJS.Signals) => {
        stopped ??= running.stop(signal).then(() => process.exit(0));
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      return -1;
    },
  },
  {
    name: "migrate",
    database: "creates",
    summary: "apply migrations to the database",
    async run({ config, out }) {
      // Opening the database applies what is pending.
      await withDb(config, async () => {});
      out(`migrations applied to ${config.SMARTHOST_DB_URL}`);
      return 0;
    },
  },
];
