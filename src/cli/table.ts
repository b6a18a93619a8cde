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

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/** The command nearest to what was typed (its first words compared with each name), if near enough. */
export function nearest(commands: readonly Command[], argv: string[]): string | null {
  const words: string[] = [];
  for (const w of argv) {
    if (w.startsWith("-") || words.length === 2) break;
    words.push(w);
  }
  const typed = words.join(" ");
  let best: { name: string; d: number } | null = null;
  // Whole names, and the objects ("acount" → account).
  const names = new Set(commands.flatMap((c) => [c.name, c.name.split(" ")[0]!]));
  for (const name of names) {
    const d = distance(typed, name);
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(2, Math.floor(best.name.length / 4)) ? best.name : null;
}
