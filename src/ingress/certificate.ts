/**
 * The TLS certificate for STARTTLS and implicit TLS: the configured PEM files, or a
 * self-signed one made on first start and kept under the data directory.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface CertificatePair {
  cert: string;
  key: string;
}

export async function loadCertificate(opts: {
  certFile?: string;
  keyFile?: string;
  dataDir: string;
  hostname: string;
}): Promise<CertificatePair> {
  if (opts.certFile && opts.keyFile) {
    return { cert: await readFile(opts.certFile, "utf8"), key: await readFile(opts.keyFile, "utf8") };
  }
  const certPath = join(opts.dataDir, "tls-cert.pem");
  const keyPath = join(opts.dataDir, "tls-key.pem");
  try {
    return { cert: await readFile(certPath, "utf8"), key: await readFile(keyPath, "utf8") };
  } catch {
    // First start: make one below.
  }
  const { generate } = await import("selfsigned");
  const pems = await generate([{ name: "commonName", value: opts.hostname }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 3 * 365 * 86400_000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 2, value: opts.hostname }, { type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }] },
    ],
  });
  // The folder holds the private key: owner only.
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, pems.private, { mode: 0o600 });
  await writeFile(certPath, pems.cert, { mode: 0o644 });
  return { cert: pems.cert, key: pems.private };
}
