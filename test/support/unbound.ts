/**
 * Debian's unbound as a DNSSEC-validating resolver on loopback, for the DANE tests: each
 * zone is written to a temp folder, signed with keys from `ldns-keygen` by
 * `ldns-signzone` when asked (its KSK becomes unbound's trust anchor), and served to
 * unbound itself through `auth-zone` (for-upstream), so the answers go through its
 * validator: signed data comes back with AD, a broken signature as SERVFAIL, an unsigned
 * zone without AD. Stopped by PID.
 */
import { writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createDnsExchange } from "../../src/runtime/node-dns-exchange.ts";
import { decodeResponse, encodeQuery } from "../../src/delivery/dns-message.ts";
import { freeUdpPort } from "./ports.ts";
import { requireTool, run } from "./require-tool.ts";
import { waitFor } from "./wait.ts";

export interface ZoneSpec {
  origin: string;
  /** Records in zone-file syntax, names relative to the origin. */
  records: string[];
  signed: boolean;
  /** Edits the signed zone text after signing (to break a signature). */
  afterSigning?: (text: string) => string;
}

export interface Unbound {
  /** host:port, for SMARTHOST_DNS_SERVERS. */
  address: string;
  log(): string;
  stop(): Promise<void>;
}

async function must(cmd: string[], cwd: string): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed (${code}): ${err || out}`);
  return out.trim();
}

/** Writes (and signs) a zone; returns the zone file to serve and the trust anchor file, if signed. */
async function prepareZone(dir: string, z: ZoneSpec): Promise<{ zonefile: string; anchor?: string }> {
  const file = join(dir, `${z.origin}.zone`);
  const head = [`$ORIGIN ${z.origin}.`, "$TTL 300", `@ IN SOA ns.${z.origin}. hostmaster.${z.origin}. 1 3600 600 86400 300`, `@ IN NS ns.${z.origin}.`, "ns IN A 127.0.0.1"];
  writeFileSync(file, [...head, ...z.records, ""].join("\n"));
  if (!z.signed) return { zonefile: file };
  const ksk = await must(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", z.origin], dir);
  const zsk = await must(["ldns-keygen", "-a", "ECDSAP256SHA256", z.origin], dir);
  await must(["ldns-signzone", file, ksk, zsk], dir);
  const signed = `${file}.signed`;
  if (z.afterSigning) writeFileSync(signed, z.afterSigning(readFileSync(signed, "utf8")));
  return { zonefile: signed, anchor: join(dir, `${ksk}.key`) };
}

export async function startUnbound(dir: string, zones: ZoneSpec[]): Promise<Unbound> {
  const unbound = requireTool("unbound");
  requireTool("ldns-signzone");
  requireTool("ldns-keygen");
  const prepared = await Promise.all(zones.map((z) => prepareZone(dir, z)));
  let lastError: unknown;
  // A free port can be taken between choosing it and unbound binding it: try another.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeUdpPort();
    const conf = join(dir, "unbound.conf");
    writeFileSync(
      conf,
      [
        "server:",
        "  interface: 127.0.0.1",
        `  port: ${port}`,
        "  do-daemonize: no",
        '  username: ""',
        '  chroot: ""',
        `  directory: "${dir}"`,
        '  pidfile: ""',
        "  use-syslog: no",
        '  logfile: ""',
        "  verbosity: 1",
        "  val-log-level: 2",
        "  access-control: 127.0.0.0/8 allow",
        '  module-config: "validator iterator"',
        // RFC 6761 names are answered locally by default; these are served from the zones below.
        '  local-zone: "test." nodefault',
        ...prepared.flatMap((p) => (p.anchor ? [`  trust-anchor-file: "${p.anchor}"`] : [])),
        "remote-control:",
        "  control-enable: no",
        ...zones.flatMap((z, i) => ["auth-zone:", `  name: "${z.origin}."`, `  zonefile: "${prepared[i]!.zonefile}"`, "  for-upstream: yes", "  for-downstream: no", "  fallback-enabled: no"]),
        "",
      ].join("\n"),
    );
    const check = await run([`${unbound}-checkconf`, conf]);
    if (check.code !== 0) throw new Error(`unbound-checkconf: ${check.out}`);
    let output = "";
    const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn([unbound, "-d", "-c", conf], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const collect = async (s: ReadableStream<Uint8Array>) => {
      for await (const chunk of s) output += new TextDecoder().decode(chunk);
    };
    void collect(proc.stdout);
    void collect(proc.stderr);
    const exchange = createDnsExchange([`127.0.0.1:${port}`], 500);
    const stop = async () => {
      proc.kill();
      await proc.exited;
    };
    try {
      // Up when it answers a question about the first zone.
      await waitFor("unbound to answer", async () => {
        if (proc.exitCode !== null) throw new Error(`unbound exited: ${output}`);
        const answer = await exchange(encodeQuery(1, `ns.${zones[0]!.origin}`, "A")).catch(() => null);
        return answer !== null && decodeResponse(answer).rcode === 0;
      }, 15_000);
      return { address: `127.0.0.1:${port}`, log: () => output, stop };
    } catch (err) {
      lastError = err;
      await stop();
    }
  }
  throw lastError;
}
