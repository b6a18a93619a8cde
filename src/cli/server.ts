/** `serve` and `migrate`. */
import { modeOf, serve } from "../serve.ts";
import { withDb } from "./io.ts";
import type { Command } from "./table.ts";

export const serverCommands: Command[] = [
  {
    name: "serve",
    summary: "run the relay (SMTP, HTTP API, delivery)",
    options: { "egress-only": { type: "boolean", help: "delivery alone" } },
    async run({ config, values }) {
      const running = await serve(config, modeOf(config, values["egress-only"] === true));
      const stop = async () => {
        await running.stop();
        process.exit(0);
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
      return -1;
    },
  },
  {
    name: "migrate",
    summary: "apply migrations to the database",
    async run({ config, out }) {
      // Opening the database applies what is pending.
      await withDb(config, async () => {});
      out(`migrations applied to ${config.SMARTHOST_DB_URL}`);
      return 0;
    },
  },
];
