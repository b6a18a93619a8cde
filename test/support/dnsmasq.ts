/** dnsmasq (Debian) serving MX and A records on loopback; no query leaves the machine. */
import { requireTool } from "./require-tool.ts";
import { freeUdpPort } from "./ports.ts";

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
  await Bun.sleep(300);
  if (proc.exitCode !== null) throw new Error(`dnsmasq exited: ${await new Response(proc.stderr).text()}`);
  return {
    address: `127.0.0.1:${port}`,
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}
