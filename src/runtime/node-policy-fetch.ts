/**
 * The MTA-STS policy fetch on node:https (Bun, Node, Deno), RFC 8461 §3.3: HTTPS with the
 * certificate checked against `mta-sts.DOMAIN`, no redirects, a short timeout and a small
 * body. The host is resolved through SMARTHOST_DNS_SERVERS like every other lookup.
 */
import { request } from "node:https";
import { checkServerIdentity, rootCertificates } from "node:tls";
import type { DnsResolve } from "../domain-check/dns.ts";
import type { PolicyFetch } from "../domain-check/records.ts";

const MAX_BYTES = 64 * 1024;
const TIMEOUT_MS = 10_000;

export interface PolicyFetchOptions {
  resolve: DnsResolve;
  /** Extra trusted CAs (PEM), as for relay routes. */
  ca?: string[];
  /** 443; tests serve the policy elsewhere on loopback. */
  port?: number;
  timeoutMs?: number;
}

export function createPolicyFetch(o: PolicyFetchOptions): PolicyFetch {
  return async (url) => {
    const u = new URL(url);
    if (u.protocol !== "https:") throw new Error("the policy URL must be https");
    const name = u.hostname;
    const addresses = (await o.resolve(name, "A").catch(() => o.resolve(name, "AAAA"))) as string[];
    const address = addresses[0];
    if (!address) throw new Error(`${name} has no address`);
    return new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: address,
          port: o.port ?? 443,
          path: u.pathname,
          method: "GET",
          headers: { host: name, "user-agent": "smarthost" },
          servername: name,
          ca: o.ca && o.ca.length > 0 ? [...rootCertificates, ...o.ca] : undefined,
          rejectUnauthorized: true,
          // The certificate must be for mta-sts.DOMAIN, whatever address was dialled.
          checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
          timeout: o.timeoutMs ?? TIMEOUT_MS,
        },
        (res) => {
          // RFC 8461 §3.3: redirects are not followed; only a 200 is a policy.
          if (res.statusCode !== 200) {
            res.resume();
            return reject(new Error(`HTTP ${res.statusCode} from ${url}`));
          }
          if (!/^text\/plain\b/i.test(String(res.headers["content-type"] ?? ""))) {
            res.resume();
            return reject(new Error("the policy is not served as text/plain"));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size > MAX_BYTES) {
              req.destroy();
              reject(new Error("the policy is larger than 64 KB"));
            } else chunks.push(c);
          });
          res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error("the policy fetch timed out")));
      req.on("error", (err) => reject(err));
      req.end();
    });
  };
}
