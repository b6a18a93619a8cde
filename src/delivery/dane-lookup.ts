/**
 * The DNS side of DANE for SMTP (RFC 7672 §2.2): is the domain's MX RRset DNSSEC-secure,
 * and for each MX host whose address records are secure, what does `_25._tcp.HOST TLSA`
 * say. Security is the resolver's AD bit, trusted only because the operator named that
 * resolver (SMARTHOST_DNS_SERVERS), as Postfix does; the queries go through an injected
 * `DnsExchange` so the rules run on any runtime.
 */
import { decodeResponse, encodeQuery, type DnsResponse, type RecordType, type Tlsa } from "./dns-message.ts";
import { usableTlsa } from "./dane.ts";
import { errorFields, type Logger } from "../core/log.ts";

/** Sends one DNS query message to the trusted resolver and returns the response message. */
export type DnsExchange = (query: Uint8Array) => Promise<Uint8Array>;

type Answer = { secure: boolean; response: DnsResponse } | { failed: string };

/** What DANE makes of one MX host. */
export type HostDane =
  /** No DANE: insecure (unsigned) or absent records. MTA-STS, then opportunistic TLS. */
  | { kind: "none" }
  /** Usable records: STARTTLS required, the certificate verified by them (RFC 7672 §3). */
  | { kind: "tlsa"; records: Tlsa[] }
  /** A secure TLSA RRset with no usable record: STARTTLS required, no authentication (RFC 7672 §2.2). */
  | { kind: "encrypt" }
  /** The lookup failed or was bogus: this host must not be used (RFC 7672 §2.2). */
  | { kind: "failed"; reason: string };

export type DomainDane =
  /** The MX RRset is not signed: DANE does not apply to the domain (RFC 7672 §2.2.1). */
  | { secure: false }
  | { secure: true; hosts: Map<string, HostDane> }
  /** The MX lookup itself failed validation (or failed): defer. */
  | { failed: string };

export interface DaneLookup {
  forDomain(domain: string, hostNames: string[]): Promise<DomainDane>;
}

// RFC 1035 §4.1.1 RCODEs a lookup may end with and still say something.
const NOERROR = 0;
const NXDOMAIN = 3;

export function createDaneLookup(exchange: DnsExchange, log?: Logger): DaneLookup {
  const ask = async (name: string, type: RecordType): Promise<Answer> => {
    const id = Math.floor(Math.random() * 65536);
    try {
      const response = decodeResponse(await exchange(encodeQuery(id, name, type)));
      if (response.id !== id) return { failed: `${type} lookup for ${name}: the answer is for another query` };
      // A validating resolver answers SERVFAIL for bogus data (RFC 4035 §5.5).
      if (response.rcode !== NOERROR && response.rcode !== NXDOMAIN) return { failed: `${type} lookup for ${name}: rcode ${response.rcode}` };
      return { secure: response.authentic, response };
    } catch (err) {
      log?.("dane_lookup_failed", { name, type, error: errorFields(err) });
      return { failed: `${type} lookup for ${name} failed` };
    }
  };

  const hostDane = async (host: string): Promise<HostDane> => {
    // RFC 7672 §2.2.2: TLSA records are looked up only for a host whose addresses are secure.
    let addresses = await ask(host, "A");
    if ("failed" in addresses) return { kind: "failed", reason: addresses.failed };
    if (!addresses.response.answers.some((a) => a.data.type === "A")) addresses = await ask(host, "AAAA");
    if ("failed" in addresses) return { kind: "failed", reason: addresses.failed };
    if (!addresses.secure) return { kind: "none" };
    const tlsa = await ask(`_25._tcp.${host}`, "TLSA");
    if ("failed" in tlsa) return { kind: "failed", reason: tlsa.failed };
    if (!tlsa.secure) return { kind: "none" };
    const records = tlsa.response.answers.flatMap((a) => (a.data.type === "TLSA" ? [a.data.tlsa] : []));
    if (records.length === 0) return { kind: "none" };
    const usable = records.filter(usableTlsa);
    return usable.length > 0 ? { kind: "tlsa", records: usable } : { kind: "encrypt" };
  };

  return {
    async forDomain(domain, hostNames) {
      const mx = await ask(domain, "MX");
      if ("failed" in mx) return { failed: mx.failed };
      if (!mx.secure) return { secure: false };
      const names = [...new Set(hostNames.map((n) => n.toLowerCase().replace(/\.$/, "")))];
      const found = await Promise.all(names.map(async (n) => [n, await hostDane(n)] as const));
      return { secure: true, hosts: new Map(found) };
    },
  };
}
