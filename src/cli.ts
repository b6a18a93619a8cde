/** `smarthost` commands (see README). Reads the same configuration as `serve`. */
import { parseArgs } from "node:util";
import { COMMANDS } from "./cli/commands.ts";
import { arity, commandHelp, findCommand, nearest, overview, parseOptions, usageLine } from "./cli/table.ts";
import { loadConfig } from "./config.ts";
import { Failure, isFailure } from "./core/failure.ts";
import { configEnvironment, refuseForeignOwner, requireDatabase } from "./runtime/config-file.ts";

/** Exit status for a command line that names no command (as before the command table). */
const USAGE_STATUS = 2;

function unknown(argv: string[]): number {
  const near = nearest(COMMANDS, argv);
  console.error(`error: unknown command "${argv.slice(0, 2).join(" ")}"${near ? `; did you mean ${near}?` : ""}`);
  console.error("run smarthost --help for the list of commands");
  return USAGE_STATUS;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || ["help", "--help", "-h"].includes(argv[0]!)) {
    console.log(overview(COMMANDS));
    return 0;
  }
  const found = findCommand(COMMANDS, argv);
  if (!found) return unknown(argv);
  const { command, rest } = found;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options: parseOptions(command) });
  } catch (err) {
    throw new Failure("invalid", `${(err as Error).message.split("\n")[0]}\nusage: smarthost ${usageLine(command)}`);
  }
  if (parsed.values.help) {
    console.log(commandHelp(command));
    return 0;
  }
  const { min, max } = arity(command);
  const n = parsed.positionals.length;
  if (n > max && COMMANDS.some((c) => c.name.startsWith(`${command.name} `))) return unknown(argv); // "queue shw ID"
  if (n < min || n > max) throw new Failure("invalid", `usage: smarthost ${usageLine(command)}`);
  // The configuration file the service reads too (SMARTHOST_CONFIG), under the environment.
  const { env, file } = configEnvironment(process.env);
  const config = loadConfig(env);
  // Only these two make a database; any other command on a missing one would act on an empty new file.
  if (command.name !== "serve" && command.name !== "migrate") requireDatabase(config.SMARTHOST_DB_URL, file);
  // Root on the service user's database would leave it files the service cannot open.
  refuseForeignOwner(config.SMARTHOST_DB_URL, process.getuid?.());
  return command.run({
    config,
    args: parsed.positionals,
    values: parsed.values as Record<string, string | boolean | undefined>,
    env,
    stdin: readStdin,
    out: (line) => console.log(line),
  });
}

/** Runs a command and exits with its status (serve keeps running). */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (err: unknown) => {
      if (err instanceof Failure && !err.isOurs) {
        console.error(`error: ${err.message}`);
        process.exit(1);
      }
      console.error(err);
      process.exit(1);
    },
  );
}

if (import.meta.main) runCli(process.argv.slice(2));
