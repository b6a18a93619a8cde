/** Every command, in the order help lists them. A new object's commands: one file, one line here. */
import { accountCommands } from "./accounts.ts";
import { credentialCommands } from "./credentials.ts";
import { dbCommands } from "./db-token.ts";
import { dkimCommands } from "./dkim.ts";
import { feedbackCommands } from "./feedback.ts";
import { keyCommands } from "./keys.ts";
import { networkCommands } from "./networks.ts";
import { queueCommands } from "./queue.ts";
import { returnPathCommands } from "./return-paths.ts";
import { routeCommands } from "./routes.ts";
import { senderCommands } from "./senders.ts";
import { serverCommands } from "./server.ts";
import { shapeCommands } from "./shapes.ts";
import { tlsrptCommands } from "./tlsrpt.ts";
import type { Command } from "./table.ts";

export const COMMANDS: readonly Command[] = [
  ...serverCommands,
  ...accountCommands,
  ...credentialCommands,
  ...keyCommands,
  ...senderCommands,
  ...networkCommands,
  ...routeCommands,
  ...shapeCommands,
  ...queueCommands,
  ...dkimCommands,
  ...returnPathCommands,
  ...feedbackCommands,
  ...tlsrptCommands,
  ...dbCommands,
];
