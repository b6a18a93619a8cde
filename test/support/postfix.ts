/**
 * A separate Postfix instance as a test peer: its own config and queue folders under a
 * temp dir, listening on one loopback port, relaying everything to `relayTo`.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { requireTool, run } from "./require-tool.ts";
import { tempDir } from "./relay.ts";

export interface Postfix {
  port: number;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

/** `extraMain`: more main.cf lines, after (and so overriding) the defaults below. */
export async function startPostfix(opts: { port: number; relayTo: number; relayDomains: string; extraMain?: string[] }): Promise<Postfix> {
  const postfix = requireTool("postfix");
  const dir = tempDir("smarthost-postfix-");
  const conf = join(dir, "conf");
  mkdirSync(conf);
  mkdirSync(join(dir, "queue"));
  mkdirSync(join(dir, "data"));
  // Postfix's own user must reach the folder and own its data directory.
  chmodSync(dir, 0o755);
  const postfixUser = Bun.spawnSync(["id", "-u", "postfix"]).stdout.toString().trim();
  if (postfixUser && userInfo().uid === 0) chownSync(join(dir, "data"), Number(postfixUser), -1);
  const main = [
    "compatibility_level = 3.6",
    `queue_directory = ${join(dir, "queue")}`,
    `data_directory = ${join(dir, "data")}`,
    "inet_interfaces = 127.0.0.1",
    "inet_protocols = ipv4",
    "myhostname = mx.dest.test",
    "mydestination =",
    "mynetworks = 127.0.0.0/8",
    `relay_domains = ${opts.relayDomains}`,
    `relayhost = [127.0.0.1]:${opts.relayTo}`,
    "smtp_dns_support_level = disabled",
    "smtp_tls_security_level = none",
    "smtpd_tls_security_level = none",
    `maillog_file = ${join(dir, "maillog")}`,
    `maillog_file_prefixes = ${dir}`,
    "alias_maps =",
    "alias_database =",
    "biff = no",
    "smtpd_relay_restrictions = permit_mynetworks, permit_auth_destination, reject",
    ...(opts.extraMain ?? []),
  ].join("\n");
  writeFileSync(join(conf, "main.cf"), `${main}\n`);
  const master = readFileSync("/etc/postfix/master.cf", "utf8")
    .split("\n")
    .map((l) => (/^smtp\s+inet\s/.test(l) ? `127.0.0.1:${opts.port} inet n - n - - smtpd` : l))
    // Every service runs unchrooted: the temp queue has no chroot tree.
    .map((l) => l.replace(/^(\S+\s+\S+\s+\S+\s+\S+\s+)y(\s)/, "$1n$2"))
    .join("\n");
  writeFileSync(join(conf, "master.cf"), master);
  const start = await run(["script", "-qc", `${postfix} -c ${conf} start`, "/dev/null"]);
  // Off a terminal postfix reports nothing, and `script` exits 0 either way: read what it said.
  if (start.code !== 0 || /fatal/.test(start.out)) throw new Error(`postfix did not start: ${start.out}`);
  return {
    port: opts.port,
    dir,
    log: () => {
      try {
        return readFileSync(join(dir, "maillog"), "utf8");
      } catch {
        return "";
      }
    },
    async stop() {
      await run(["script", "-qc", `${postfix} -c ${conf} stop`, "/dev/null"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
