/**
 * The TLS rows' servers: one self-signed certificate (ECDSA P-256, what smarthost makes for
 * itself) given to every peer, the ceiling sink that speaks STARTTLS, and each relay with
 * STARTTLS and, where it has it, AUTH PLAIN.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";
import { messagesCounted, startHaraka, startPostfixRelay, startSmarthost, waitForPort, type Relay, type Sink } from "./peers.ts";
import { freeTcpPort } from "../test/support/ports.ts";

export const TLS_USER = "bench-tls";
export const TLS_PASSWORD = "bench-tls-password-0123456789";

export interface CertFiles {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  dispose(): void;
}

/** The same parameters as src/ingress/certificate.ts uses for its own. */
export async function makeCertificate(): Promise<CertFiles> {
  const dir = mkdtempSync(join(tmpdir(), "bench-cert-"));
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 86400_000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }] },
    ],
  });
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  writeFileSync(certFile, pems.cert);
  // Postfix's smtpd reads it after giving up root: readable by its user (a temp file of the bench).
  writeFileSync(keyFile, pems.private, { mode: 0o644 });
  return { cert: pems.cert, key: pems.private, certFile, keyFile, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** bench/tls-sink.ts in its own process: the TLS rows' ceiling. */
export async function startTlsSink(cert: CertFiles): Promise<Sink> {
  const port = await freeTcpPort();
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "tls-sink.ts"), String(port), cert.certFile, cert.keyFile], { stdout: "pipe", stderr: "inherit" });
  const delivered = messagesCounted(proc.stdout);
  await waitForPort(port);
  return {
    port,
    delivered,
    async stop() {
      proc.kill();
      await proc.exited;
    },
  };
}

const postfixTls = (cert: CertFiles) => ["smtpd_tls_security_level = may", `smtpd_tls_cert_file = ${cert.certFile}`, `smtpd_tls_key_file = ${cert.keyFile}`];

/** Postfix with STARTTLS only: the client is let in by mynetworks. */
export function startPostfixTls(cert: CertFiles) {
  return (sinkPort: number): Promise<Relay> => startPostfixRelay(sinkPort, postfixTls(cert));
}

/**
 * Postfix with STARTTLS and AUTH, relaying for authenticated clients only. Its SASL server
 * is bench/sasl-dovecot.ts (Dovecot's protocol; Dovecot itself is not installed), whose
 * CPU and memory count with Postfix's.
 */
export function startPostfixTlsAuth(cert: CertFiles) {
  return async (sinkPort: number): Promise<Relay> => {
    const port = await freeTcpPort();
    const sasl = Bun.spawn([process.execPath, join(import.meta.dir, "sasl-dovecot.ts"), String(port), TLS_USER, TLS_PASSWORD], { stdout: "ignore", stderr: "inherit" });
    const stopSasl = async () => {
      sasl.kill();
      await sasl.exited;
    };
    try {
      await waitForPort(port);
      const pf = await startPostfixRelay(sinkPort, [
        ...postfixTls(cert),
        "smtpd_sasl_auth_enable = yes",
        "smtpd_sasl_type = dovecot",
        `smtpd_sasl_path = inet:127.0.0.1:${port}`,
        "smtpd_tls_auth_only = yes",
        "smtpd_relay_restrictions = permit_sasl_authenticated, reject",
      ]);
      return {
        name: "Postfix",
        port: pf.port,
        pids: () => [...pf.pids(), sasl.pid],
        async stop() {
          await pf.stop();
          await stopSasl();
        },
      };
    } catch (e) {
      await stopSasl();
      throw e;
    }
  };
}

/** Haraka with its tls plugin and auth/flat_file (PLAIN) over the same certificate. */
export function startHarakaTls(cert: CertFiles) {
  return (sinkPort: number): Promise<Relay> =>
    startHaraka(sinkPort, {
      plugins: ["tls", "auth/flat_file"],
      files: {
        "tls_cert.pem": cert.cert,
        "tls_key.pem": cert.key,
        "auth_flat_file.ini": `[core]\nmethods=PLAIN\n\n[users]\n${TLS_USER}=${TLS_PASSWORD}\n`,
      },
    });
}

/** smarthost with the certificate and an SMTP credential made with the CLI. */
export function startSmarthostTls(cert: CertFiles) {
  return (sinkPort: number): Promise<Relay> =>
    startSmarthost(sinkPort, { SMARTHOST_TLS_CERT: cert.certFile, SMARTHOST_TLS_KEY: cert.keyFile }, (cli) => {
      cli(["credential", "add", "bench", TLS_USER, "--password", TLS_PASSWORD]);
    });
}
