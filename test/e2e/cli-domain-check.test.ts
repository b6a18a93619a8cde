/**
 * `domain check` as a deploy script uses it: exit 0 when every record is published, 1 while
 * any check fails. DNS from a loopback server (dns2); the MTA-STS policy from a loopback
 * HTTPS server, reached the way the command fetches it (fetch, through an HTTPS proxy that
 * sends every CONNECT to that server, with the test's certificate trusted by
 * NODE_EXTRA_CA_CERTS), so no query and no connection leaves the machine.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server } from "node:https";
import { connect, createServer, type Server as NetServer } from "node:net";
import { join } from "node:path";
import { generate } from "selfsigned";
import { printedRecords } from "../support/dkim-relay.ts";
import { startDns, type DnsServer, type Zone } from "../support/dns-server.ts";
import { cli, cliOk, removeDir, tempDir } from "../support/relay.ts";

const zone: Required<Pick<Zone, "txt" | "mx">> = {
  txt: {
    "pass.test": [["v=spf1 ip4:192.0.2.10 -all"]],
    "_dmarc.pass.test": [["v=DMARC1; p=none"]],
    "_mta-sts.pass.test": [["v=STSv1; id=2026120701"]],
    "_smtp._tls.pass.test": [["v=TLSRPTv1; rua=mailto:tls@pass.test"]],
  },
  mx: { "pass.test": [{ exchange: "mx.pass.test", priority: 10 }] },
};
const POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mx.pass.test\r\nmax_age: 86400\r\n";

let dir = "";
let dns: DnsServer;
let https: Server;
let proxy: NetServer;
const connects: string[] = [];
let env: Record<string, string> = {};

beforeAll(async () => {
  dir = tempDir();
  dns = await startDns(zone);
  const tls = await generate([{ name: "commonName", value: "mta-sts.pass.test" }], {
    keyType: "ec",
    curve: "P-256",
    extensions: [{ name: "basicConstraints", cA: true }, { name: "subjectAltName", altNames: [{ type: 2, value: "mta-sts.pass.test" }] }],
  });
  const caFile = join(dir, "policy-ca.pem");
  writeFileSync(caFile, tls.cert);
  https = createHttpsServer({ cert: tls.cert, key: tls.private }, (req, res) => {
    if (req.headers.host === "mta-sts.pass.test" && req.url === "/.well-known/mta-sts.txt") {
      res.writeHead(200, { "content-type": "text/plain" }).end(POLICY);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => https.listen(0, "127.0.0.1", r));
  const httpsPort = (https.address() as { port: number }).port;
  // CONNECT host:443 → the loopback HTTPS server, whatever the host (the certificate decides).
  proxy = createServer((client) => {
    client.once("data", (head) => {
      connects.push(head.toString("latin1").split("\r\n")[0]!);
      const upstream = connect(httpsPort, "127.0.0.1", () => {
        client.write("HTTP/1.1 200 Connection established\r\n\r\n");
        client.pipe(upstream).pipe(client);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  env = {
    SMARTHOST_DNS_SERVERS: dns.address,
    SMARTHOST_SENDING_IPS: "192.0.2.10",
    HTTPS_PROXY: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
    NODE_EXTRA_CA_CERTS: caFile,
  };
  await cliOk(dir, ["migrate"]);
  const added = await cli(dir, ["dkim", "add", "pass.test", "--selector", "dc", "--algorithm", "ed25519"], env);
  expect(added.code).toBe(0);
  for (const [name, value] of Object.entries(printedRecords(added.stdout))) zone.txt[name] = [[value]];
}, 60_000);

afterAll(async () => {
  await dns?.close();
  https?.close();
  proxy?.close();
  if (dir) removeDir(dir);
});

test("exit 0 when every check passes, 1 while any fails (text and --json alike)", async () => {
  const r = await cli(dir, ["domain", "check", "pass.test"], env);
  expect(r.stdout.split("\n")[0]).toBe("pass.test: everything published");
  expect(r.stdout).not.toContain("✗");
  expect(r.stdout).toContain("✓ MTA-STS: policy mode enforce");
  expect([r.code, r.stderr]).toEqual([0, ""]);
  expect(connects).toContain("CONNECT mta-sts.pass.test:443 HTTP/1.1");
  const json = await cli(dir, ["domain", "check", "pass.test", "--json"], env);
  expect([json.code, JSON.parse(json.stdout).ok]).toEqual([0, true]);

  const failing = await cli(dir, ["domain", "check", "fail.test"], env);
  expect(failing.stdout.split("\n")[0]).toBe("fail.test: records to publish below");
  expect(failing.stdout).toContain("✗ DKIM: no DKIM key: run smarthost dkim add fail.test");
  expect([failing.code, failing.stderr]).toEqual([1, ""]);
  const failingJson = await cli(dir, ["domain", "check", "fail.test", "--json"], env);
  expect([failingJson.code, JSON.parse(failingJson.stdout).ok]).toEqual([1, false]);
  // One record missing is enough: pass.test without its TLS-RPT record.
  const tlsRpt = zone.txt["_smtp._tls.pass.test"];
  delete zone.txt["_smtp._tls.pass.test"];
  try {
    const one = await cli(dir, ["domain", "check", "pass.test"], env);
    expect(one.stdout).toContain("✗ TLS-RPT: no TLS-RPT record");
    expect(one.code).toBe(1);
  } finally {
    zone.txt["_smtp._tls.pass.test"] = tlsRpt!;
  }
  // A domain name that is not one is a failed command too: 1, with the reason.
  expect(await cli(dir, ["domain", "check", "not_a_domain"], env)).toEqual({ code: 1, stdout: "", stderr: 'error: "not_a_domain" is not a domain name\n' });
});
