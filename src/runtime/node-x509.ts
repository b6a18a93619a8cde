/** Certificate facts for DANE (src/delivery/dane.ts) from node:crypto (Bun, Node, Deno). */
import { createHash, X509Certificate } from "node:crypto";
import type { CertificateTools } from "../delivery/dane.ts";

const parse = (der: Uint8Array) => new X509Certificate(der);
const bytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.length);

export const nodeCertificateTools: CertificateTools = {
  spki: (der) => bytes(parse(der).publicKey.export({ type: "spki", format: "der" })),
  digest: (algorithm, data) => bytes(createHash(algorithm).update(data).digest()),
  issuedBy(child, issuer) {
    try {
      const c = parse(child);
      const i = parse(issuer);
      return c.checkIssued(i) && c.verify(i.publicKey);
    } catch {
      return false;
    }
  },
  matchesHost(der, host) {
    try {
      // RFC 7672 §3.2.3: a wildcard only as the whole leftmost label.
      return parse(der).checkHost(host, { wildcards: true, partialWildcards: false, multiLabelWildcards: false }) !== undefined;
    } catch {
      return false;
    }
  },
  validAt(der, now) {
    try {
      const c = parse(der);
      return Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo);
    } catch {
      return false;
    }
  },
};
