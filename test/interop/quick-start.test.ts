/**
 * The README's quick start, run as written: the commands between its quick-start markers,
 * in a copy of the tree (so `./data` is the copy's), with only the ports changed to free
 * ones. The message sent over HTTP and the one sent with swaks reach the local sink route.
 */
import { afterAll, expect, test } from "bun:test";
import { readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { removeDir, tempDir } from "../support/relay.ts";
import { freeTcpPort } from "../support/ports.ts";
import { requireTool } from "../support/require-tool.ts";
import { waitFor } from "../support/wait.ts";

const ROOT = join(import.meta.dir, "..", "..");
const procs: { pid: number; exited: Promise<number>; kill(signal?: number | NodeJS.Signals): void }[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.exited));
  dirs.forEach(removeDir);
});

/** The shell lines of the ```sh blocks between the markers: continuations joined, comments dropped. */
export function quickStartLines(readme: string): string[] {
  const begin = readme.indexOf("<!-- quick-start:begin -->");
  const end = readme.indexOf("<!-- quick-start:end -->");
  if (begin < 0 || end < begin) throw new Error("README.md has no quick-start markers");
  const blocks = [...readme.slice(begin, end).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.replace(/\\\n\s*/g, "").split("\n"))
    .map((l) => l.replace(/\s+#\s.*$/, "").trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** A copy of the tracked tree sharing node_modules: the quick start's ./data lands in the copy. */
function copyOfTree(): string {
  const dir = tempDir("smarthost-quick-start-");
  dirs.push(dir);
  // Tracked files and new ones not ignored: the tree as it stands (on a clean clone, the tracked ones).
  const files = Bun.spawnSync(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT }).stdout;
  const tar = Bun.spawnSync(["sh", "-c", `tar --null -T - -cf - 2>/dev/null | tar -xf - -C '${dir}'`], { cwd: ROOT, stdin: files });
  if (tar.exitCode !== 0) throw new Error(`copying the tree failed: ${tar.stderr.toString()}`);
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

test("the README quick start delivers to its local test route, over HTTP and SMTP", async () => {
  requireTool("swaks");
  const lines = quickStartLines(readFileSync(join(ROOT, "README.md"), "utf8"));
  expect(lines.some((l) => l.startsWith("npx smarthost route add"))).toBe(true);
  const dir = copyOfTree();
  const ports: Record<string, number> = { 2525: await freeTcpPort(), 8787: await freeTcpPort(), 2526: await freeTcpPort() };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? dir,
    SMARTHOST_CONFIG: "",
    SMARTHOST_SMTP_LISTEN: `127.0.0.1:${ports[2525]}`,
    SMARTHOST_SMTPS_LISTEN: "127.0.0.1:0",
    SMARTHOST_HTTP_LISTEN: `127.0.0.1:${ports[8787]}`,
    // Nothing leaves the machine: a name that needs no lookup, DNS to a closed loopback port.
    SMARTHOST_HOSTNAME: "relay.test",
    SMARTHOST_DNS_SERVERS: "127.0.0.1:9",
  };
  const withPorts = (line: string) => line.replace(/\b(2525|8787|2526)\b/g, (p) => String(ports[p]));
  const output: Record<string, string> = {};

  for (const raw of lines) {
    const line = withPorts(raw);
    // The tree is installed already; test/interop/production-install.test.ts installs from scratch.
    if (line === "npm install") continue;
    if (line.endsWith("&")) {
      const cmd = line.slice(0, -1).trim();
      const proc = Bun.spawn(["sh", "-c", `exec ${cmd}`], { cwd: dir, env, stdout: "pipe", stderr: "pipe" });
      procs.push(proc);
      output[cmd] = "";
      const decoder = new TextDecoder();
      for (const stream of [proc.stdout, proc.stderr]) void (async () => { for await (const c of stream) output[cmd] += decoder.decode(c); })();
      await waitFor(`${cmd} to be ready`, () => /sink listening|"event":"started"/.test(output[cmd]!) || (proc.exitCode !== null ? Promise.reject(new Error(`${cmd} exited: ${output[cmd]}`)) : false), 30_000);
      continue;
    }
    const assign = /^([A-Z_]+)=\$\((.*)\)$/.exec(line);
    const proc = Bun.spawnSync(["sh", "-c", assign ? assign[2]! : line], { cwd: dir, env });
    const out = proc.stdout.toString();
    if (proc.exitCode !== 0) throw new Error(`${raw}: exit ${proc.exitCode}\n${out}${proc.stderr.toString()}`);
    if (assign) env[assign[1]!] = out.trim();
    if (raw.startsWith("curl")) expect(JSON.parse(out)).toMatchObject({ id: expect.any(String), status: "queued" });
  }

  const sink = Object.keys(output).find((k) => k.startsWith("npm run sink"))!;
  const received = await waitFor("both messages at the sink", () => {
    const got = output[sink]!.split("\n").filter((l) => l.startsWith("received") && l.includes("to someone@example.net"));
    return got.length >= 2 ? got : undefined;
  }, 30_000);
  expect(received.join("\n")).toContain("subject: Hi");
  expect(received.join("\n")).toContain("subject: Hi over SMTP");
  expect(received.every((l) => l.startsWith("received from <app@example.com>"))).toBe(true);
}, 180_000);
