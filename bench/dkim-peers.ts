/**
 * The DKIM rows' relays, each signing mail from example.com (the bench's sender domain)
 * with RSA-2048, relaxed/relaxed: Postfix with OpenDKIM as a milter, Haraka with
 * haraka-plugin-dkim, and smarthost with a key made by its CLI (RSA, or RSA + Ed25519).
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { startHaraka, startPostfixRelay, startSmarthost, waitForPort, type Relay } from "./peers.ts";
import { freeTcpPort } from "../test/support/ports.ts";
import { requireTool } from "../test/support/require-tool.ts";

export const DKIM_DOMAIN = "example.com";
export const DKIM_SELECTOR = "bench";

export interface DkimKey {
  privatePem: string;
  /** The p= value of the TXT record: the public key, DER (SubjectPublicKeyInfo), base64. */
  publicB64: string;
}

export function makeRsaKey(): DkimKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicB64: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
  };
}

/** OpenDKIM in the foreground on a loopback port, signing for example.com. */
export async function startOpenDkim(key: DkimKey): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const bin = requireTool("opendkim");
  // OpenDKIM refuses a configuration or key under a folder others may write (as /tmp is): the home folder.
  const dir = mkdtempSync(join(homedir(), ".bench-opendkim-"));
  const port = await freeTcpPort();
  writeFileSync(join(dir, "key.private"), key.privatePem, { mode: 0o600 });
  const conf = [
    "Syslog no",
    "Mode s",
    `Domain ${DKIM_DOMAIN}`,
    `Selector ${DKIM_SELECTOR}`,
    `KeyFile ${join(dir, "key.private")}`,
    "Canonicalization relaxed/relaxed",
    "SignatureAlgorithm rsa-sha256",
    // Postfix hands the milter the client's address: the bench's load comes from loopback.
    "InternalHosts 127.0.0.1",
    `Socket inet:${port}@127.0.0.1`,
    "Background no",
  ].join("\n");
  writeFileSync(join(dir, "opendkim.conf"), `${conf}\n`);
  const proc = Bun.spawn([bin, "-f", "-x", join(dir, "opendkim.conf")], { stdout: "ignore", stderr: "pipe" });
  let err = "";
  void new Response(proc.stderr).text().then((t) => (err = t));
  try {
    await waitForPort(port, 10_000);
  } catch {
    proc.kill();
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`opendkim did not start: ${err}`);
  }
  return {
    port,
    pid: proc.pid,
    async stop() {
      proc.kill();
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Postfix handing every message to OpenDKIM before queueing it; the CPU counted is both. */
export function startPostfixDkim(key: DkimKey) {
  return async (sinkPort: number): Promise<Relay> => {
    const milter = await startOpenDkim(key);
    try {
      const pf = await startPostfixRelay(sinkPort, [
        `smtpd_milters = inet:127.0.0.1:${milter.port}`,
        "non_smtpd_milters = $smtpd_milters",
        "milter_default_action = accept",
      ]);
      return {
        name: "Postfix",
        port: pf.port,
        pids: () => [...pf.pids(), milter.pid],
        async stop() {
          await pf.stop();
          await milter.stop();
        },
      };
    } catch (e) {
      await milter.stop();
      throw e;
    }
  };
}

/** Haraka signing with the per-domain key layout: config/dkim/<domain>/{private,selector}; verification off. */
export function startHarakaDkim(key: DkimKey) {
  return (sinkPort: number): Promise<Relay> =>
    startHaraka(sinkPort, {
      plugins: ["dkim"],
      files: {
        "dkim.ini": [
          "[sign]",
          "enabled = true",
          "headers = From, Sender, Reply-To, Subject, Date, Message-ID, To, Cc, MIME-Version, Content-Type, Content-Transfer-Encoding",
          "[canon]",
          "body = relaxed",
          "[verify]",
          "enabled = false",
          "",
        ].join("\n"),
        [`dkim/${DKIM_DOMAIN}/private`]: key.privatePem,
        [`dkim/${DKIM_DOMAIN}/selector`]: `${DKIM_SELECTOR}\n`,
      },
    });
}

/** smarthost with a key from `dkim add` (it signs at once), RSA or RSA + Ed25519. */
export function startSmarthostDkim(algorithm: "rsa" | "both", onRecords: (text: string) => void = () => {}) {
  return (sinkPort: number): Promise<Relay> =>
    startSmarthost(sinkPort, {}, (cli) => {
      onRecords(cli(["dkim", "add", DKIM_DOMAIN, "--algorithm", algorithm, "--selector", DKIM_SELECTOR], true));
    });
}
