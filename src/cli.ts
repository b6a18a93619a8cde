/** `smarthost` commands (see README). Reads the same configuration as `serve`. */
import { parseArgs } from "node:util";
import { COMMANDS } from "./cli/commands.ts";
import { arity, commandHelp, findCommand, nearest, nearestOption, overview, parseOptions, usageLine, type Command } from "./cli/table.ts";
import { loadConfig } from "./config.ts";
import { Failure, isFailure } from "./core/failure.ts";
import { configEnvironment, refuseForeignOwner, requireDatabase } from "./runtime/config-file.ts";

/**
 * Exit status for a command line smarthost does not understand: an unknown command or
 * option, an option without its value, too few or too many arguments. Nothing was done.
 * 1 is for a command that ran and failed (or found a failing check); 0 for success.
 */
const USAGE_STATUS = 2;

function unknown(argv: string[]): number {
  // An object alone ("key", "domain --json"): its commands, not a guess.
  const subs = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `)).map((c) => c.name);
  if (subs.length > 0 && (argv[1] === undefined || argv[1].startsWith("-"))) {
    console.error(`error: "${argv[0]}" needs a command: ${subs.join(", ")}`);
    return USAGE_STATUS;
  }
  const near = nearest(COMMANDS, argv);
  console.error(`error: unknown command "${argv.slice(0, 2).join(" ")}"${near ? `; did you mean ${near}?` : ""}`);
  console.error("run smarthost --help for the list of commands");
  return USAGE_STATUS;
}

function usageError(command: Command, text: string): number {
  console.error(`error: ${text}`);
  console.error(`usage: smarthost ${usageLine(command)}`);
  return USAGE_STATUS;
}

/** parseArgs' refusal in our words: an unknown option with the nearest known one. */
function optionError(command: Command, err: unknown): number {
  const e = err as { code?: string; message?: string };
  const first = (e.message ?? "").split(/\.? To specify|\n/)[0]!;
  const typed = /'(-[^' ]*)/.exec(first)?.[1] ?? "";
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && typed) return usageError(command, /missing/.test(first) ? `${typed} needs a value` : `${typed} takes no value`);
  if (e.code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") return usageError(command, first);
  const near = nearestOption(command, typed);
  return usageError(command, `unknown option "${typed}" for ${command.name}${near ? `; did you mean ${near}?` : ""}`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    // Nothing asked, nothing done: the help, and a status a script would notice.
    console.error(overview(COMMANDS));
    return 1;
  }
  if (["help", "--help", "-h"].includes(argv[0]!)) {
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
    return optionError(command, err);
  }
  if (parsed.values.help) {
    console.log(commandHelp(command));
    return 0;
  }
  const { min, max } = arity(command);
  const n = parsed.positionals.length;
  if (n > max && COMMANDS.some((c) => c.name.startsWith(`${command.name} `))) return unknown(argv); // "queue shw ID"
  if (n < min || n > max) return usageError(command, n < min ? "missing arguments" : `unexpected argument "${parsed.positionals[max]}"`);
  // The configuration file the service reads too (SMARTHOST_CONFIG), under the environment.
  const { env, file } = configEnvironment(process.env);
  const config = loadConfig(env);
  // Only serve and migrate make a database; any other command on a missing one would act on an empty new file.
  if (command.database === undefined) requireDatabase(config.SMARTHOST_DB_URL, file);
  // Root on the service user's database would leave it files the service cannot open. Not
  // for serve: a container's root may serve a volume that another uid owns on the host.
  if (command.name !== "serve") refuseForeignOwner(config.SMARTHOST_DB_URL, process.getuid?.());
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
