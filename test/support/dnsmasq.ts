/** dnsmasq (Debian) serving MX and A records on loopback; no query leaves the machine. */
import { requireTool } from "./require-tool.ts";
import { freeUdpPort } from "./ports.ts";
import { waitFor } from "./wait.ts";
import { Resolver } from "node:dns/promises";

export interface Dnsmasq {
  address: string;
  stop(): Promise<void>;
}

export async function startDnsmasq(records: { mx: [string, string, number][]; hosts: [string, string][] }): Promise<Dnsmasq> {
  const bin = requireTool("dnsmasq");
  const port = await freeUdpPort();
  const args = [
    bin,
    "--keep-in-foreground",
    `--port=${port}`,
    "--listen-address=127.0.0.1",
    "--bind-interfaces",
    "--no-resolv",
    "--no-hosts",
    "--no-poll",
    "--user=root",
    "--pid-file=",
    "--local=/test/",
    ...records.mx.map(([domain, host, pref]) => `--mx-host=${domain},${host},${pref}`),
    ...records.hosts.map(([host, ip]) => `--host-record=${host},${ip}`),
  ];
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  // Ready when it answers: ask for a record it was given until it does (or it exits).
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  const host = records.hosts[0]?.[0];
  const domain = records.mx[0]?.[0] ?? "";
  const ask = () => (host !== undefined ? resolver.resolve4(host) : resolver.resolveMx(domain));
  try {
    await waitFor("dnsmasq to answer", async () => {
      if (proc.exitCode !== null) throw new Error(`dnsmasq exited: ${await new Response(proc.stderr).text()}`);
      return ask().then(() => true, () => undefined);
    }, 10_000);
  } catch (err) {
    proc.kill();
    throw err;
  }
  return {
    address: `127.0.0.1:${port}`,
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}
