/**
 * The command table: each command is one entry (name, arguments, options, run) in the file
 * named for its object (accounts.ts, keys.ts, queue.ts, …), listed in commands.ts. Parsing
 * is node:util's parseArgs; this file finds the command, prints help, and suggests the
 * nearest command for a typo.
 */
import type { ParseArgsOptionDescriptor } from "node:util";
import type { Config } from "../config.ts";

export interface Option {
  type: "string" | "boolean";
  /** Shown in help: `--per-minute N`. */
  value?: string;
  help: string;
}

export interface Context {
  config: Config;
  /** Positional arguments after the command's name. */
  args: string[];
  values: Record<string, string | boolean | undefined>;
  env: Record<string, string | undefined>;
  /** Everything on standard input (for --password-stdin). */
  stdin(): Promise<string>;
  out(line: string): void;
}

export interface Command {
  /** One or two words: "queue", "account list". */
  name: string;
  /** Positional arguments as shown in usage: "ACCOUNT USERNAME", "[ACCOUNT]". */
  args?: string;
  summary: string;
  options?: Record<string, Option>;
  /** "creates": may make the database (serve, migrate); "none": never opens it. Absent: a missing database is refused. */
  database?: "creates" | "none";
  run(ctx: Context): Promise<number>;
}

export function usageLine(c: Command): string {
  const opts = Object.entries(c.options ?? {}).map(([k, o]) => `[--${k}${o.value ? ` ${o.value}` : ""}]`);
  return [c.name, c.args ?? "", ...opts].filter((s) => s !== "").join(" ");
}

export function commandHelp(c: Command): string {
  const lines = [`usage: smarthost ${usageLine(c)}`, "", c.summary];
  const opts = Object.entries(c.options ?? {});
  if (opts.length > 0) {
    lines.push("", "options:");
    for (const [k, o] of opts) lines.push(`${`  --${k}${o.value ? ` ${o.value}` : ""}`.padEnd(32)}  ${o.help}`);
  }
  return lines.join("\n");
}

export function overview(commands: readonly Command[]): string {
  return ["usage: smarthost <command> [--help]", ...commands.map((c) => `  ${`${c.name} ${c.args ?? ""}`.trim().padEnd(40)}${c.summary.split("\n")[0]}`)].join("\n");
}

/** Positional arguments the usage allows: required words, then optional `[…]` ones. */
export function arity(c: Command): { min: number; max: number } {
  const words = (c.args ?? "").split(/\s+/).filter((w) => w !== "");
  return { min: words.filter((w) => !w.startsWith("[")).length, max: words.some((w) => w.endsWith("...]")) ? Infinity : words.length };
}

export function parseOptions(c: Command): Record<string, ParseArgsOptionDescriptor> {
  const out: Record<string, ParseArgsOptionDescriptor> = { help: { type: "boolean" } };
  for (const [k, o] of Object.entries(c.options ?? {})) out[k] = { type: o.type };
  return out;
}

/** The command named by the first words of argv (the longest name that matches), and the rest. */
export function findCommand(commands: readonly Command[], argv: string[]): { command: Command; rest: string[] } | null {
  let best: { command: Command; rest: string[] } | null = null;
  for (const c of commands) {
    const words = c.name.split(" ");
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.command.name.split(" ").length)) {
      best = { command: c, rest: argv.slice(words.length) };
    }
  }
  return best;
}

/**
 * Edits between two words, a swap of neighbours counting one (optimal string alignment):
 * "lsit" is one slip from "list", "--jsno" one from "--json". Plain Levenshtein, what
 * packages such as fastest-levenshtein compute, counts a swap as two and would suggest
 * less or the wrong thing for the commonest typo; the names compared are a few dozen
 * short words, so this dozen lines costs nothing.
 */
export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate nearest to `typed`, if near enough to be what was meant: a third of its length off, at least 2, never the whole of it. */
function closest(typed: string, candidates: Iterable<string>): string | null {
  let best: { name: string; d: number } | null = null;
  for (const name of candidates) {
    const d = distance(typed, name);
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(best.name.length / 3)) && best.d < best.name.length ? best.name : null;
}

/** The option of `c` nearest to an unknown one (`--jsno` → `--json`), with its dashes. */
export function nearestOption(c: Command, typed: string): string | null {
  const name = typed.replace(/^-+/, "").split("=")[0]!;
  const near = closest(name, ["help", ...Object.keys(c.options ?? {})]);
  return near === null ? null : `--${near}`;
}

/** The command nearest to what was typed (its first words compared with each name), if near enough. */
export function nearest(commands: readonly Command[], argv: string[]): string | null {
  const words: string[] = [];
  for (const w of argv) {
    if (w.startsWith("-") || words.length === 2) break;
    words.push(w);
  }
  const typed = words.join(" ");
  // Whole names, and the objects ("acount" → account).
  return closest(typed, new Set(commands.flatMap((c) => [c.name, c.name.split(" ")[0]!])));
}
