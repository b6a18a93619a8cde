/**
 * The servers compared, each started on free loopback ports and stopped by PID: the sink
 * (Postfix's smtp-sink), Postfix as a relay, Haraka as a queueing relay, and smarthost.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pidsByExe, treeOf } from "./proc.ts";
import { startPostfix } from "../test/support/postfix.ts";
import { freeTcpPort } from "../test/support/ports.ts";
import { requireTool } from "../test/support/require-tool.ts";

const ROOT = join(import.meta.dir, "..");

export interface Sink {
  port: number;
  delivered(): number;
  stop(): Promise<void>;
}

/** The last "mesg=N" a sink printed on `stdout` (smtp-sink's counters, and bench/tls-sink.ts's). */
export function messagesCounted(stdout: ReadableStream<Uint8Array>): () => number {
  let last = 0;
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of stdout) {
      const m = [...dec.decode(chunk).matchAll(/mesg=(\d+)/g)].at(-1);
      if (m) last = Number(m[1]);
    }
  })();
  return () => last;
}

/** smtp-sink with its counters on stdout: "… mesg=N"; `dumpDir` keeps each message there as a file (-d). */
export async function startSink(opts: { dumpDir?: string } = {}): Promise<Sink> {
  const bin = requireTool("smtp-sink");
  const port = await freeTcpPort();
  const dump = opts.dumpDir ? ["-d", join(opts.dumpDir, "msg.")] : [];
  const proc = Bun.spawn([bin, "-u", "postfix", "-c", ...dump, `127.0.0.1:${port}`, "1000"], { stdout: "pipe", stderr: "pipe" });
  const delivered = messagesCounted(proc.stdout);
  await Bun.sleep(200);
  return {
    port,
    delivered,
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}

export interface Relay {
  name: string;
  port: number;
  pids(): number[];
  stop(): Promise<void>;
}

/** `extraMain`: main.cf lines for a scenario (TLS, a milter). */
export async function startPostfixRelay(sinkPort: number, extraMain: string[] = []): Promise<Relay> {
  const port = await freeTcpPort();
  const pf = await startPostfix({ port, relayTo: sinkPort, relayDomains: "dest.test", extraMain });
  return { name: "Postfix", port, pids: () => pidsByExe(["/usr/lib/postfix/sbin/"]), stop: () => pf.stop() };
}

/** `extra.plugins` go between the local rDNS answer and relay; `extra.files` are written into config/ (a path with "/" makes its folder). */
export async function startHaraka(sinkPort: number, extra: { plugins?: string[]; files?: Record<string, string> } = {}): Promise<Relay> {
  const bin = join(ROOT, "node_modules", ".bin", "haraka");
  const dir = mkdtempSync(join(tmpdir(), "bench-haraka-"));
  const port = await freeTcpPort();
  const config = join(dir, "config");
  mkdirSync(config);
  mkdirSync(join(dir, "plugins"));
  cpSync(join(ROOT, "node_modules", "Haraka", "config"), config, { recursive: true });
  const files: Record<string, string> = {
    "smtp.ini": `listen=127.0.0.1:${port}\nnodes=1\n`,
    plugins: ["rdns_localhost", ...(extra.plugins ?? []), "relay", ""].join("\n"),
    "relay.ini": "[relay]\nacl=true\nforce_routing=true\ndest_domains=false\n",
    relay_acl_allow: "127.0.0.1/32\n",
    "relay_dest_domains.ini": `[domains]\ndest.test = { "action": "continue", "nexthop": "127.0.0.1:${sinkPort}" }\n`,
    "outbound.ini": "[main]\nenable_tls=false\n",
    queue_dir: `${join(dir, "queue")}\n`,
    "log.ini": "[main]\nlevel=warn\n",
    me: "haraka.test\n",
    ...extra.files,
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(config, name)), { recursive: true });
    writeFileSync(join(config, name), text);
  }
  // Reverse DNS answered locally: no query leaves the machine.
  writeFileSync(join(dir, "plugins", "rdns_localhost.js"), "exports.hook_lookup_rdns = function (next) { next(OK, 'localhost'); };\n");
  const proc = Bun.spawn([bin, "-c", dir], { stdout: "ignore", stderr: "ignore" });
  await waitForPort(port);
  return {
    name: "Haraka",
    port,
    pids: () => treeOf(proc.pid),
    async stop() {
      proc.kill();
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `setup` runs more CLI commands (a credential, a DKIM key) before the server starts;
 * `root`: the source tree to run (another checkout, to compare two versions); `bunFlags`:
 * e.g. `--cpu-prof` (BENCH_RELAY_FLAGS and BENCH_RELAY_WRAP do the same from outside).
 */
export async function startSmarthost(
  sinkPort: number,
  extraEnv: Record<string, string> = {},
  setup: (cli: (args: string[], whole?: boolean) => string) => void = () => {},
  opts: { root?: string; bunFlags?: string[] } = {},
): Promise<Relay & { http: number; apiKey: string }> {
  const root = opts.root ?? ROOT;
  const dir = mkdtempSync(join(tmpdir(), "bench-smarthost-"));
  const env = {
    PATH: process.env.PATH ?? "",
    SMARTHOST_DB_URL: `file:${join(dir, "smarthost.db")}`,
    SMARTHOST_DATA_DIR: join(dir, "data"),
    SMARTHOST_SMTP_LISTEN: "127.0.0.1:0",
    SMARTHOST_SMTPS_LISTEN: "",
    SMARTHOST_HTTP_LISTEN: "127.0.0.1:0",
    SMARTHOST_HOSTNAME: "smarthost.test",
    // No machine-wide configuration file: the bench's settings only.
    SMARTHOST_CONFIG: "",
    SMARTHOST_LOG: "silent",
    SMARTHOST_MAX_CONNECTIONS_PER_IP: "20000",
    SMARTHOST_DELIVERY_POLL_MS: "100",
    ...extraEnv,
  };
  // The last line of what a command printed (a key, a password), or all of it.
  const cli = (args: string[], whole = false) => {
    const r = Bun.spawnSync([process.execPath, join(root, "src", "cli.ts"), ...args], { env });
    if (r.exitCode !== 0) throw new Error(`smarthost ${args.join(" ")}: ${r.stderr.toString()}`);
    const out = r.stdout.toString().trim();
    return whole ? out : out.split("\n").at(-1)!;
  };
  // Only serve and migrate make a database: the other commands refuse a missing one.
  cli(["migrate"]);
  cli(["account", "add", "bench"]);
  cli(["sender", "allow", "bench", "example.com"]);
  cli(["network", "allow", "bench", "127.0.0.0/8"]);
  cli(["route", "add", "*", `smtp://127.0.0.1:${sinkPort}?tls=none`]);
  const apiKey = cli(["key", "add", "bench"]);
  setup(cli);
  const server = await serveSmarthost(env, opts);
  return {
    ...server,
    apiKey,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `smarthost serve` with `env` (set up beforehand), until it logs where it listens. bench/sqld.ts starts several on one database. */
export async function serveSmarthost(env: Record<string, string>, opts: { root?: string; bunFlags?: string[] } = {}): Promise<Relay & { http: number }> {
  const root = opts.root ?? ROOT;
  const flags = [...(opts.bunFlags ?? []), process.env.BENCH_RELAY_FLAGS ?? ""].join(" ");
  const proc = Bun.spawn(["bash", "-c", `ulimit -n $(ulimit -Hn); exec ${process.env.BENCH_RELAY_WRAP ?? ""} "${process.execPath}" ${flags} "${join(root, "src", "cli.ts")}" serve`], {
    env: { ...env, SMARTHOST_LOG: "info" },
    stdout: process.env.BENCH_DEBUG ? "inherit" : "ignore",
    stderr: "pipe",
  });
  // Read stderr for as long as the server runs: a closed pipe would kill it at its next log line.
  let text = "";
  const dec = new TextDecoder();
  const listening = new Promise<{ smtp: number[]; http: number[] }>((resolve, reject) => {
    void (async () => {
      let found = false;
      for await (const chunk of proc.stderr) {
        if (process.env.BENCH_DEBUG) process.stderr.write(chunk);
        if (found) continue;
        text += dec.decode(chunk);
        const line = text.split("\n").find((l) => l.includes('"event":"listening"'));
        if (line) {
          found = true;
          resolve(JSON.parse(line));
        }
      }
      if (!found) reject(new Error(`smarthost did not start: ${text}`));
    })();
  });
  const info = await listening;
  return {
    name: "smarthost",
    port: info.smtp[0]!,
    http: info.http[0]!,
    pids: () => treeOf(proc.pid),
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

export async function waitForPort(port: number, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      s.end();
      return;
    } catch {
      await Bun.sleep(100);
    }
  }
  throw new Error(`nothing listens on ${port}`);
}
